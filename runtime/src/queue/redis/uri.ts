import type { RedisOptions } from 'ioredis';
import { QueueConnectionError } from '../../errors.js';
import { redactPassword } from '../redact.js';

/** The key prefix used when the URI names none. */
export const DEFAULT_PREFIX = 'loco';

/** The largest database number a Redis server can have (its `databases` setting is an int). */
const MAX_DATABASE = 2_147_483_647;

/** What `parseRedisUri` reads from a `redis://` URI. */
export interface RedisLocation {
  /**
   * What ioredis connects with: host, port, credentials, database and TLS from the URI, and its
   * parameters other than `prefix`, each converted to the type ioredis expects.
   */
  options: RedisOptions;
  /** The database number (`/2`), 0 when the URI names none. */
  db: number;
  /** Every key of this queue starts with `<prefix>:`. (Default: loco) */
  prefix: string;
  /** The URI for messages: as written, without the password. */
  display: string;
}

/**
 * The URI parameters passed on to ioredis, with the type each must have. A URI parameter is
 * text; ioredis would take `connectTimeout=abc` as it is and crash on it later.
 */
const PARAMETERS: Record<string, 'ms' | 'boolean' | 'family'> = {
  connectTimeout: 'ms',
  commandTimeout: 'ms',
  socketTimeout: 'ms',
  keepAlive: 'ms',
  noDelay: 'boolean',
  enableAutoPipelining: 'boolean',
  family: 'family',
};

/**
 * `redis://[user:password@]host[:port][/db][?prefix=myapp]` (or `rediss://` for TLS) -> how to
 * connect and the key prefix. The path is the database number and nothing else; parameters other
 * than `prefix` are the ioredis options in `PARAMETERS`, checked and converted. Anything else is
 * refused with a message naming it, so that a URI is never half understood (a database that
 * silently becomes 0, a timeout that crashes the process later).
 */
export function parseRedisUri(uri: string): RedisLocation {
  const display = redactPassword(uri);
  const refuse = (problem: string, cause?: unknown): never => {
    throw new QueueConnectionError(`The Redis URI '${display}' ${problem}`, cause ? { cause } : undefined);
  };
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch (err) {
    throw new QueueConnectionError(
      `Cannot read the Redis URI '${display}'; write it as redis://host:6379/0 (optionally with ?prefix=myapp).`,
      { cause: err },
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    refuse(`starts with ${url.protocol}//; use redis:// (or rediss:// for TLS).`);
  }
  if (url.hostname === '') refuse('names no host; write it as redis://host:6379/0.');
  if (url.hash !== '') refuse(`has a #fragment ('${url.hash}'), which means nothing here; remove it.`);

  const db = databaseOf(url.pathname, refuse);
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (prefix === '') refuse('has an empty prefix; write ?prefix=myapp or leave it out.');
  if (prefix.includes(':')) {
    // `a` would own the keys of `a:b` (its keys all start with `a:`), and flushing it would delete them.
    refuse(
      `has the prefix '${prefix}', which contains ':'; keys are built as <prefix>:..., ` +
        `so one queue's keys could fall under another's. Use a prefix without ':', e.g. ?prefix=${prefix.replaceAll(':', '-')}.`,
    );
  }

  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    db,
  };
  try {
    if (url.username !== '') options.username = decodeURIComponent(url.username);
    if (url.password !== '') options.password = decodeURIComponent(url.password);
  } catch (err) {
    refuse('has a % in its user or password that is not followed by two hex digits; write %25 for a literal %.', err);
  }
  if (url.protocol === 'rediss:') options.tls = {};
  const seen = new Set<string>();
  for (const [name, value] of url.searchParams) {
    if (seen.has(name)) refuse(`gives ${name} twice; give it once.`);
    seen.add(name);
    if (name === 'prefix') continue;
    const type = PARAMETERS[name];
    if (!type) {
      refuse(
        `has the parameter '${name}', which this queue does not read. The parameters are prefix, ` +
          `${Object.keys(PARAMETERS).join(', ')}; the database is the path (/0, /1, ...).`,
      );
    }
    (options as Record<string, unknown>)[name] = parameterValue(name, value, type, refuse);
  }
  return { options, db, prefix, display };
}

/** `''`, `/` -> 0; `/5` -> 5; anything else is refused. */
function databaseOf(pathname: string, refuse: (problem: string) => never): number {
  if (pathname === '' || pathname === '/') return 0;
  const match = /^\/(\d+)$/.exec(pathname);
  const db = match ? Number(match[1]) : Number.NaN;
  if (!match || db > MAX_DATABASE) {
    refuse(
      `has the path '${pathname}'; the path of a Redis URI is the database number and nothing else ` +
        '(/0 to /15 on a server with the default databases setting), as in redis://host:6379/2.',
    );
  }
  return db;
}

function parameterValue(
  name: string,
  value: string,
  type: 'ms' | 'boolean' | 'family',
  refuse: (problem: string) => never,
): number | boolean {
  switch (type) {
    case 'ms':
      if (/^\d{1,9}$/.test(value)) return Number(value);
      return refuse(`has ${name}=${value}; expected a whole number of milliseconds, such as ${name}=5000.`);
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      return refuse(`has ${name}=${value}; expected true or false.`);
    case 'family':
      if (value === '0' || value === '4' || value === '6') return Number(value);
      return refuse(`has ${name}=${value}; expected 4 (IPv4), 6 (IPv6) or 0 (either).`);
  }
}

/** The prefix as a SCAN MATCH pattern for all of its keys, glob characters escaped. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}
