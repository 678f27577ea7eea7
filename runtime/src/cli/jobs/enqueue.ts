/** `loco jobs enqueue`: a job enqueued by hand. */
import { ArgsError, RegistryError } from '../../errors.js';
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
  /** The job's unique key. (Default: the worker's `uniqueKey(args)`) */
  key?: string;
  /** The job's priority. (Default: the worker's `priority()`) */
  priority?: number;
}

/**
 * Enqueues one job for the registered worker `name` and prints its id (only the id, for scripts):
 * the new job's, or the queued job's whose key it matched (said on stderr).
 */
export async function enqueueJob({ queue }: JobSession, name: string, options: EnqueueCommandOptions): Promise<void> {
  const worker = queue.registry.get(name);
  if (!worker) throw new RegistryError(`Cannot enqueue: ${unknownWorkerMessage(name, queue.names())}`);
  if (!worker.argsSchema && !isPlainObject(options.args)) {
    throw new ArgsError(
      `Cannot enqueue ${name}: --args must be a JSON object such as '{"userGuid":"foo"}', found ${JSON.stringify(options.args)}. ` +
        'Nothing was enqueued.',
    );
  }
  const [result] = await queue.enqueueByName(name, [options.args], {
    tags: options.tags,
    delay: options.delay,
    key: options.key,
    priority: options.priority,
  });
  console.log(result.id);
  if (!result.added) console.error(`A queued ${name} job has that key already: nothing was added; its id is above.`);
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
