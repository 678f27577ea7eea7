import { statSync } from 'node:fs';
import { QueueConnectionError } from '../../errors.js';
import { redactPassword } from '../redact.js';

/** The schema a queue uses when its URI names none. */
export const DEFAULT_SCHEMA = 'public';

/**
 * Longest schema name: Postgres names are at most 63 bytes, and the NOTIFY channel is the
 * schema name behind `loco:`.
 */
const MAX_SCHEMA_LENGTH = 58;

/** What a `postgres://` queue URI says. */
export interface PostgresLocation {
  /** The URI handed to pg: the configured one without the `schema` parameter. */
  connectionString: string;
  /** The schema the queue's tables live in (`?schema=`, default `public`). */
  schema: string;
  /** The configured URI without its password, for messages and logs. */
  display: string;
}

/**
 * `postgres://user:secret@host:5432/db?schema=jobs` -> the URI for pg (without `schema`), the
 * schema name, and the URI without the password for messages.
 */
export function parsePostgresUri(uri: string): PostgresLocation {
  const display = redactPassword(uri);
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch (err) {
    throw new QueueConnectionError(
      `Cannot read the Postgres URI '${display}'; write it as postgres://user:password@host:5432/database?schema=public.`,
      { cause: err },
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new QueueConnectionError(
      `The Postgres queue URI '${display}' starts with ${url.protocol}//; use postgres://user:password@host:5432/database.`,
    );
  }
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema) || schema.length > MAX_SCHEMA_LENGTH) {
    throw new QueueConnectionError(
      `The Postgres queue URI '${display}' names the schema '${schema}'; a schema name here is letters, digits ` +
        `and underscores, starts with a letter or underscore, and has at most ${MAX_SCHEMA_LENGTH} characters ` +
        '(for example ?schema=loco_jobs).',
    );
  }
  for (const [name, value] of url.searchParams) {
    const problem = parameterProblem(name, value);
    if (problem)
      throw new QueueConnectionError(`The Postgres queue URI '${display}' has ${name}=${value}: ${problem}.`);
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema, display };
}

/** Parameters pg reads as whole numbers (it would pass `abc` on as NaN, or ignore it). */
const WHOLE_NUMBERS = [
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
];
/** Parameters naming files pg reads whole, at connect time. */
const FILES = ['sslcert', 'sslkey', 'sslrootcert'];
/** Largest certificate or key file: they are a few KiB, and `/dev/zero` must not be read. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Why pg cannot use `value` for the parameter `name`, or `undefined`. */
function parameterProblem(name: string, value: string): string | undefined {
  if (WHOLE_NUMBERS.includes(name) && !/^\d{1,9}$/.test(value)) return 'expected a whole number';
  if (FILES.includes(name)) {
    let size: number;
    try {
      const stats = statSync(value);
      if (!stats.isFile()) return 'expected a certificate or key file, found a folder, device or pipe';
      size = stats.size;
    } catch (err) {
      return `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    if (size > MAX_FILE_BYTES) return `expected a certificate or key file, found ${size} bytes`;
  }
  return undefined;
}
