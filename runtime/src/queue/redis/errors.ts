import { LocoError, QueueConnectionError } from '../../errors.js';
import type { RedisLocation } from './uri.js';

/**
 * The errors the Lua scripts raise on purpose, by code (`redis.error_reply('<CODE> <detail>')`),
 * each turned into the message a user reads; any other error is passed on as it is.
 */
const SCRIPT_ERRORS: Record<string, (detail: string, display: string) => string> = {
  LOCO_DUPLICATE_ID: (id, display) =>
    `Cannot enqueue: a job with id ${id} is already in the Redis queue at ${display}; nothing was written. ` +
    'Every job needs an id of its own: enqueue it again without giving an id.',
};

/** A script's error as the user should read it. */
export function scriptError(err: unknown, display: string): unknown {
  const match = /^(LOCO_[A-Z_]+) (.*)$/.exec((err as Error)?.message ?? '');
  const describe = match && SCRIPT_ERRORS[match[1]];
  return describe ? new LocoError(describe(match[2], display), { cause: err }) : err;
}

/** The server refused to select the URI's database (`/99` on a server with 16). */
export function databaseError(err: unknown, db: number, display: string): QueueConnectionError {
  const reason = ((err as Error)?.message ?? String(err)).replace(/^ERR /, '');
  return new QueueConnectionError(
    `Cannot use database ${db} of the Redis server at ${display}: ${reason}. The server has as many databases as ` +
      'its databases setting says (16 by default, numbered from 0); put one of them at the end of queue.uri (/0, /1, ...).',
    { cause: err },
  );
}

/** The first connection failed: what the server (or, for a cluster, the last node tried) said, and what to check. */
export function connectionError(reason: Error, location: RedisLocation): QueueConnectionError {
  // A cluster reports "Failed to refresh slots cache"; what its last node answered says why.
  const lastNodeError = (reason as Error & { lastNodeError?: Error }).lastNodeError;
  const why = [reason, lastNodeError].flatMap((err) => (err ? [err.message.replace(/\.$/, '')] : []));
  return new QueueConnectionError(
    `Cannot connect to the Redis queue at ${location.display}: ${why.join(': ')}. ` +
      (location.nodes
        ? 'Check that the nodes are running, are part of a Redis Cluster (cluster-enabled yes; for a single ' +
          'server write redis://), and that queue.uri is right.'
        : 'Check that the server is running and queue.uri is right.'),
    { cause: reason },
  );
}
