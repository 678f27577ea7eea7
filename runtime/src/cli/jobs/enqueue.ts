/** `loco jobs enqueue`: a job enqueued by hand. */
import { RegistryError } from '../../errors.js';
import type { JobSession } from './session.js';
import { unknownWorkerMessage } from './text.js';

/** Options of `enqueue`. */
export interface EnqueueCommandOptions {
  /** The job's args. (Default: `{}`) */
  args: unknown;
  /** The job's tags. (Default: the worker's `tags()`) */
  tags?: string[];
  /** Run no earlier than this many ms from now. (Default: 0) */
  delay?: number;
}

/** Enqueues one job for the registered worker `name` and prints its id (only the id, for scripts). */
export async function enqueueJob({ queue }: JobSession, name: string, options: EnqueueCommandOptions): Promise<void> {
  if (!queue.registry.get(name))
    throw new RegistryError(`Cannot enqueue: ${unknownWorkerMessage(name, queue.names())}`);
  const [id] = await queue.enqueueByName(name, [options.args], { tags: options.tags, delay: options.delay });
  console.log(id);
}
