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
  /**
   * The cluster nodes to start from, for a `redis+cluster://` URI (undefined for one server):
   * ioredis' `Cluster` asks them for the others. `options` then applies to every node.
   */
  nodes?: Array<{ host: string; port: number }>;
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
 *
 * `redis+cluster://[user:password@]host:port,host:port[?prefix=myapp]` (or `rediss+cluster://`)
 * names a Redis Cluster by some of its nodes (`nodes`), with the same parameters; a cluster has
 * database 0 only, so its path is empty or `/0`.
 */
export function parseRedisUri(uri: string): RedisLocation {
  const display = redactPassword(uri);
  const refuse = (problem: string, cause?: unknown): never => {
    throw new QueueConnectionError(`The Redis URI '${display}' ${problem}`, cause ? { cause } : undefined);
  };
  if (/^\s*rediss?\+cluster:/i.test(uri)) return parseClusterUri(uri.trim(), display, refuse);
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
    refuse(
      `starts with ${url.protocol}//; use redis:// (or rediss:// for TLS); redis+cluster://host:port,host:port names a Redis Cluster.`,
    );
  }
  if (url.hostname === '') refuse('names no host; write it as redis://host:6379/0.');
  if (url.hash !== '') refuse(`has a #fragment ('${url.hash}'), which means nothing here; remove it.`);

  const db = databaseOf(url.pathname, refuse);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    db,
  };
  readCredentials(options, url.username, url.password, refuse);
  if (url.protocol === 'rediss:') options.tls = {};
  const prefix = readParameters(url.searchParams, options, refuse);
  return { options, db, prefix, display };
}

/**
 * `redis+cluster://[user:password@]host:port,host:port[/0][?params]`. The WHATWG URL parser
 * refuses a host list, so the URI is split here and each node is read as a `redis://` authority.
 */
function parseClusterUri(
  uri: string,
  display: string,
  refuse: (problem: string, cause?: unknown) => never,
): RedisLocation {
  const match = /^(rediss?)\+cluster:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(uri);
  if (!match) {
    return refuse(
      'cannot be read; write a Redis Cluster as redis+cluster://host:7000,host:7001 (optionally with ?prefix=myapp).',
    );
  }
  const [, scheme, authority, path, query, fragment] = match;
  if (fragment) refuse(`has a #fragment ('${fragment}'), which means nothing here; remove it.`);
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  if (hostList === '') refuse('names no node; write it as redis+cluster://host:7000,host:7001.');

  const nodes = hostList.split(',').map((entry) => {
    let node: URL | undefined;
    try {
      node = entry === '' ? undefined : new URL(`redis://${entry}`);
    } catch {
      node = undefined;
    }
    if (
      !node ||
      node.hostname === '' ||
      node.pathname !== '' ||
      node.username !== '' ||
      node.password !== '' ||
      node.search !== ''
    ) {
      return refuse(`has the node '${entry}' in its node list; write each node as host:port, separated by commas.`);
    }
    return { host: node.hostname.replace(/^\[|\]$/g, ''), port: node.port === '' ? 6379 : Number(node.port) };
  });
  if (path !== '' && path !== '/' && path !== '/0') {
    refuse(`has the path '${path}'; a Redis Cluster has database 0 only, so leave the path out.`);
  }
  const options: RedisOptions = {};
  if (userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    readCredentials(options, user, colon >= 0 ? userinfo.slice(colon + 1) : '', refuse);
  }
  if (scheme.toLowerCase() === 'rediss') options.tls = {};
  const prefix = readParameters(new URLSearchParams(query ?? ''), options, refuse);
  return { options, db: 0, prefix, display, nodes };
}

function readCredentials(
  options: RedisOptions,
  user: string,
  password: string,
  refuse: (problem: string, cause?: unknown) => never,
): void {
  try {
    if (user !== '') options.username = decodeURIComponent(user);
    if (password !== '') options.password = decodeURIComponent(password);
  } catch (err) {
    refuse('has a % in its user or password that is not followed by two hex digits; write %25 for a literal %.', err);
  }
}

/** Reads `prefix` and the ioredis parameters into `options`; returns the prefix. */
function readParameters(
  params: URLSearchParams,
  options: RedisOptions,
  refuse: (problem: string, cause?: unknown) => never,
): string {
  const prefix = params.get('prefix') ?? DEFAULT_PREFIX;
  if (prefix === '') refuse('has an empty prefix; write ?prefix=myapp or leave it out.');
  if (prefix.includes(':')) {
    // `a` would own the keys of `a:b` (its keys all start with `a:`), and flushing it would delete them.
    refuse(
      `has the prefix '${prefix}', which contains ':'; keys are built as {<prefix>}:..., ` +
        `so one queue's keys could fall under another's. Use a prefix without ':', e.g. ?prefix=${prefix.replaceAll(':', '-')}.`,
    );
  }
  const seen = new Set<string>();
  for (const [name, value] of params) {
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
  return prefix;
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

/** All keys of the queue with this prefix as a SCAN MATCH pattern (`{<prefix>}:*`), glob characters escaped. */
export function prefixPattern(prefix: string): string {
  return `{${escapeGlob(prefix)}}:*`;
}

/** The keys of the layout before hash tags (`<prefix>:*`), as a SCAN MATCH pattern. */
export function legacyPattern(prefix: string): string {
  return `${escapeGlob(prefix)}:*`;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
