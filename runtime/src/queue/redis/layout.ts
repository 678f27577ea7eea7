import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { QueueConnectionError } from '../../errors.js';
import type { RedisClient, RedisKeys } from './keys.js';
import { runScript } from './scripts.js';
import { legacyPattern } from './uri.js';

/**
 * The version of the key layout this code writes, kept under `{<prefix>}:layout`. Version 1
 * (no key) is the layout before hash tags, whose keys start with `<prefix>:`.
 */
export const LAYOUT_VERSION = '2';

/**
 * Keys of the previous layout of which at least one exists whenever that layout holds anything
 * lasting: `names` has every job name ever enqueued (it is never emptied), `paused` the pauses.
 * The others (`claimed:`, `tick:`, `starts:` ...) live a lease, a tick or a rate window and are
 * moved with the rest when there is a rest.
 */
const LEGACY_MARKERS = ['names', 'paused', 'leases', 'lanes', 'running'];

/** How long a hold on the upgrade lasts unless renewed (each batch renews it). */
const HOLD_MS = 30_000;
/** Keys of the previous layout read per SCAN page and moved per script call. */
const BATCH = 1000;

/**
 * Brings the keys of a queue to this layout when a store made by the previous version (keys
 * `<prefix>:...`, without hash tags) is opened: every such key is moved to `{<prefix>}:...`, a
 * SCAN page at a time, by one process while the others wait for it (the `upgrading` hold, which
 * lapses if that process dies, so the next one to open resumes). Keys the previous version
 * writes after an upgrade (a process of it still running) are merged in the next time a process
 * opens the queue. Costs one round trip on a store already up to date.
 *
 * Skipped on a Redis Cluster, where the previous version could write nothing (its scripts touch
 * keys of many slots, which a cluster refuses). With `create` false (commands that only read),
 * a queue with no keys of the previous layout is left as it is, so nothing is written to an
 * unused prefix. Returns how many keys were moved.
 */
export async function upgradeLayout(
  redis: RedisClient,
  keys: RedisKeys,
  display: string,
  create: boolean,
  waitMs = 2 * HOLD_MS,
): Promise<number> {
  if (redis.isCluster) {
    if (create) await redis.set(keys.layout, LAYOUT_VERSION);
    return 0;
  }
  const server = redis as Redis;
  const markers = LEGACY_MARKERS.map((name) => `${keys.prefix}:${name}`);
  const [[layoutError, layout], [legacyError, legacy]] = (await server
    .pipeline()
    .get(keys.layout)
    .exists(markers)
    .exec()) as [[Error | null, string | null], [Error | null, number]];
  if (layoutError) throw layoutError;
  // A server that enforces key slots refuses EXISTS over keys of several slots: the previous
  // version could not have written there either.
  if (legacyError && !/^CROSSSLOT/.test(legacyError.message)) throw legacyError;
  if (!legacy) {
    if (create && layout !== LAYOUT_VERSION) await server.set(keys.layout, LAYOUT_VERSION);
    return 0;
  }

  const token = randomBytes(9).toString('base64url');
  const deadline = Date.now() + waitMs;
  while ((await server.set(keys.upgrading, token, 'PX', HOLD_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) {
      throw new QueueConnectionError(
        `Cannot open the Redis queue at ${display}: another process has been moving the keys of prefix ` +
          `'${keys.prefix}' to the current layout for more than ${Math.round(waitMs / 1000)} s. Wait for it to ` +
          `finish and start again; if no process is doing it, delete the key ${keys.upgrading} and start again.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    // The process this one waited for may have moved everything already.
    if ((await server.exists(markers)) === 0) {
      await server.set(keys.layout, LAYOUT_VERSION);
      return 0;
    }
    let moved = 0;
    let cursor = '0';
    do {
      const [next, found] = await server.scan(cursor, 'MATCH', legacyPattern(keys.prefix), 'COUNT', BATCH);
      cursor = next;
      if (found.length === 0) continue;
      moved += (await runScript(server, 'upgrade', [keys.upgrading], [keys.base, keys.prefix, ...found])) as number;
      await server.pexpire(keys.upgrading, HOLD_MS);
    } while (cursor !== '0');
    await server.set(keys.layout, LAYOUT_VERSION);
    return moved;
  } finally {
    // Release the hold only if it is still this process's (it may have lapsed and been taken).
    if ((await server.get(keys.upgrading)) === token) await server.del(keys.upgrading);
  }
}
