import type { Cluster, Redis } from 'ioredis';
import { legacyPattern, prefixPattern } from './uri.js';

/**
 * The Redis key layout of one queue. Every key starts with `{<prefix>}:`: the braces are a hash
 * tag, so Redis Cluster (and any Redis that enforces key slots) puts every key of one queue in one
 * hash slot, and each Lua script, which builds job and lane keys from that start, touches one slot
 * only (as BullMQ's `{queue}` keys do). A queue can share a database with anything else, and
 * `dangerously_flush` deletes exactly this queue's keys. The version before this layout wrote
 * `<prefix>:...` without braces; `redis/layout.ts` renames such keys on open.
 *
 * - `job:<id>` (hash): the job record: `name`, `lane`, `task_data` (JSON), `status`, `run_at`,
 *   `interval` (absent when none), `attempts`, `max_attempts`, `last_error` (absent when none),
 *   `key` (its unique key, absent when none), `created_at`, `updated_at`; `claim`, the token of
 *   the claim that took it last, and `counted`, whether that claim added it to `running` ('1' or
 *   '0'; absent on jobs claimed by a version that counted every job); on the first job of an
 *   enqueue call, `enqueue_token`. Times are ms since the epoch. Its queue, tags and priority are
 *   those of its lane.
 * - `lane:<lane id>` (sorted set): the queued jobs of one lane, scored by `run_at`; ties are ordered
 *   by id, which is enqueue order. A lane is a queue, a job name, a tag set and a priority: `laneId()`.
 * - `keys:<name>` (hash): the unique keys of live (queued or processing) jobs of one name -> job id.
 * - `running` (hash): `<name>\0<concurrency key>` -> how many of those jobs are processing, for
 *   concurrency limits (the job hash keeps its concurrency key as `ckey`). Only jobs claimed
 *   while their name had a concurrency limit in the claiming process's config are counted: a
 *   limit holds among the processes that know it. During a rolling deploy from a version that
 *   counted every job, that version's finishes also take back jobs the new one did not count, so a
 *   count may read low (never stuck high) until the old processes are gone.
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
 * - `layout` (string): the layout version of the keys (`LAYOUT_VERSION` in `redis/layout.ts`), set
 *   once the keys of an older layout have been renamed; `upgrading` (string) is held meanwhile.
 *
 * The Lua scripts in this folder build `job:`, `lane:`, `keys:`, `starts:` and `status:` keys the
 * same way, from `base` passed as ARGV[1].
 */
export class RedisKeys {
  readonly lanes: string;
  readonly names: string;
  readonly leases: string;
  readonly wake: string;
  readonly running: string;
  readonly paused: string;
  readonly layout: string;
  readonly upgrading: string;
  /** `{<prefix>}`: what every key starts with, its hash tag; the scripts take it as ARGV[1]. */
  readonly base: string;

  constructor(readonly prefix: string) {
    const base = queueBase(prefix);
    this.base = base;
    this.lanes = `${base}:lanes`;
    this.names = `${base}:names`;
    this.leases = `${base}:leases`;
    this.wake = `${base}:wake`;
    this.running = `${base}:running`;
    this.paused = `${base}:paused`;
    this.layout = `${base}:layout`;
    this.upgrading = `${base}:upgrading`;
  }

  job(id: string): string {
    return `${this.base}:job:${id}`;
  }

  /** The unique keys of one job name. */
  uniqueKeys(name: string): string {
    return `${this.base}:keys:${name}`;
  }

  claimed(client: string): string {
    return `${this.base}:claimed:${client}`;
  }

  tick(schedule: string, tickAt: number): string {
    return `${this.base}:tick:${schedule}:${tickAt}`;
  }
}

/**
 * `{<prefix>}`, the start of every key of a queue. Whatever the prefix holds, the hash tag of a
 * key `{<prefix>}:...` is decided by the prefix alone (Redis hashes the text between the first
 * `{` and the first `}` after it, which lies within `{<prefix>}`), so all keys of one queue share
 * one slot.
 */
export function queueBase(prefix: string): string {
  return `{${prefix}}`;
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

/** A connection to one Redis server, or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The servers to SCAN: each master of a cluster (once connected: before, it knows none), or the one server. */
export function scanTargets(redis: RedisClient): Redis[] {
  return redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
}

/**
 * Deletes every key of the queue with this prefix, in this layout (`{<prefix>}:*`) and in the
 * layout before it (`<prefix>:*`), a SCAN page at a time on every server that holds keys (each
 * master of a cluster), and nothing else. Returns how many were deleted.
 */
export async function deleteQueueKeys(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const server of scanTargets(redis)) {
    for (const pattern of [prefixPattern(prefix), legacyPattern(prefix)]) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        if (server === redis) {
          deleted += await server.unlink(keys);
        } else {
          // A cluster node refuses a multi-key UNLINK across slots: one key per command, one round trip.
          const replies = (await server.pipeline(keys.map((key) => ['unlink', key])).exec()) ?? [];
          for (const [err, count] of replies) {
            if (err) throw err;
            deleted += count as number;
          }
        }
      } while (cursor !== '0');
    }
  }
  return deleted;
}
