import { QueueConnectionError } from '../../errors.js';
import { redactPassword } from '../redact.js';

/** The key prefix used when the URI names none. */
export const DEFAULT_PREFIX = 'loco';

/** What `parseRedisUri` reads from a `redis://` URI. */
export interface RedisLocation {
  /** The URI ioredis connects to (without the `prefix` parameter, which is ours). */
  connectUri: string;
  /** Every key of this queue starts with `<prefix>:`. (Default: loco) */
  prefix: string;
  /** The URI for messages: as written, without the password. */
  display: string;
}

/**
 * `redis://[user:password@]host[:port][/db][?prefix=myapp]` (or `rediss://` for TLS) -> where to
 * connect and the key prefix. Other query parameters are ioredis options and are passed on.
 */
export function parseRedisUri(uri: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch (err) {
    throw new QueueConnectionError(
      `Cannot read the Redis URI '${redactPassword(uri)}'; write it as redis://host:6379/0 (optionally with ?prefix=myapp).`,
      { cause: err },
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new QueueConnectionError(
      `The Redis URI '${redactPassword(uri)}' starts with ${url.protocol}//; use redis:// (or rediss:// for TLS).`,
    );
  }
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (prefix === '') {
    throw new QueueConnectionError(
      `The Redis URI '${redactPassword(uri)}' has an empty prefix; write ?prefix=myapp or leave it out.`,
    );
  }
  if (prefix.includes(':')) {
    // `a` would own the keys of `a:b` (its keys all start with `a:`), and flushing it would delete them.
    throw new QueueConnectionError(
      `The Redis URI '${redactPassword(uri)}' has the prefix '${prefix}', which contains ':'; keys are built as <prefix>:..., ` +
        `so one queue's keys could fall under another's. Use a prefix without ':', e.g. ?prefix=${prefix.replaceAll(':', '-')}.`,
    );
  }
  url.searchParams.delete('prefix');
  return { connectUri: url.toString(), prefix, display: redactPassword(uri) };
}

/** The prefix as a SCAN MATCH pattern for all of its keys, glob characters escaped. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}
