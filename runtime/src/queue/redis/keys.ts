import type { Redis } from 'ioredis';
import { prefixPattern } from './uri.js';

/**
 * The Redis key layout of one queue. Every key starts with `<prefix>:`, so a queue can share a
 * database with anything else and `dangerously_flush` deletes exactly this queue's keys.
 *
 * - `job:<id>` (hash): the job record: `name`, `lane`, `task_data` (JSON), `status`, `run_at`,
 *   `interval` (absent when none), `attempts`, `max_attempts`, `last_error` (absent when none),
 *   `key` (its unique key, absent when none), `created_at`, `updated_at`; `claim`, the token of
 *   the claim that took it last; on the first job of an enqueue call, `enqueue_token`. Times are
 *   ms since the epoch. Its queue, tags and priority are those of its lane.
 * - `lane:<lane id>` (sorted set): the queued jobs of one lane, scored by `run_at`; ties are ordered
 *   by id, which is enqueue order. A lane is a queue, a job name, a tag set and a priority: `laneId()`.
 * - `keys:<name>` (hash): the unique keys of live (queued or processing) jobs of one name -> job id.
 * - `running` (hash): `<name>\0<concurrency key>` -> how many of those jobs are processing, for
 *   concurrency limits (the job hash keeps its concurrency key as `ckey`).
 * - `starts:<name>` (sorted set): the starts of a rate-limited name in its window, scored by time.
 * - `paused` (set): `worker:<name>` and `queue:<name>` of what is paused.
 * - `lanes` (set): the lane ids that hold queued jobs; the claim reads it to find lanes it may take from.
 * - `leases` (sorted set): processing job ids scored by `lease_until`.
 * - `status:<status>:<name>` (sorted set): finished jobs (`completed`, `failed`, `cancelled`) of one
 *   name, scored by `updated_at`. Queued jobs are found through the lanes and processing ones
 *   through the leases, so a job's way through the queue touches as few keys as it can.
 * - `names` (set): every job name enqueued, for `list`, `stats` and `remove`.
 * - `wake` (list): a few tokens pushed when jobs become due; idle workers block on it.
 * - `claimed:<client>:<slot>` (string): the token of a client's last claim in that slot (one slot
 *   per claim in flight), so that a claim resent after a dropped connection returns the jobs the
 *   first one took instead of taking more.
 * - `tick:<schedule>:<tick_at>` (string): a scheduler's claim of one scheduled time (ms since the
 *   epoch) of one schedule: the token of the call that claimed it, set with NX and expiring at
 *   `tick_at + hold` (PXAT), which prunes it.
 *
 * The Lua scripts in this folder build `job:`, `lane:` and `status:` keys from the prefix the same way.
 */
export class RedisKeys {
  readonly lanes: string;
  readonly names: string;
  readonly leases: string;
  readonly wake: string;
  readonly running: string;
  readonly paused: string;

  constructor(readonly prefix: string) {
    this.lanes = `${prefix}:lanes`;
    this.names = `${prefix}:names`;
    this.leases = `${prefix}:leases`;
    this.wake = `${prefix}:wake`;
    this.running = `${prefix}:running`;
    this.paused = `${prefix}:paused`;
  }

  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  /** The unique keys of one job name. */
  uniqueKeys(name: string): string {
    return `${this.prefix}:keys:${name}`;
  }

  claimed(client: string): string {
    return `${this.prefix}:claimed:${client}`;
  }

  tick(schedule: string, tickAt: number): string {
    return `${this.prefix}:tick:${schedule}:${tickAt}`;
  }
}

/** A lane: the jobs of one queue, name, tag set and priority, claimed together. */
export interface Lane {
  queue: string | null;
  name: string;
  tags: string[];
  priority: number;
}

/**
 * The lane id, as stored in the `lanes` set and decoded by the claim script:
 * `[queue, name, tags, priority]` as JSON. Lanes of priority 0 leave it out, so the lanes of a
 * store made before priorities existed read as they are.
 */
export function laneId(queue: string | null, name: string, tags: string[], priority: number): string {
  return JSON.stringify(priority === 0 ? [queue, name, tags] : [queue, name, tags, priority]);
}

/** Reads a lane id back. */
export function parseLane(id: string): Lane {
  const [queue, name, tags, priority] = JSON.parse(id) as [string | null, string, string[], number | undefined];
  return { queue, name, tags, priority: priority ?? 0 };
}

/**
 * Deletes every key that starts with `<prefix>:` (SCAN MATCH + UNLINK, a page at a time), and
 * nothing else. Returns how many were deleted.
 */
export async function deleteQueueKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
