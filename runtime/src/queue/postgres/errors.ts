/**
 * The message of an error from pg or the network, without the stack. Node reports a refused
 * connection to a name with several addresses (`localhost`: ::1 and 127.0.0.1) as an
 * AggregateError whose own message is empty; its parts are used then.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && !err.message) {
    const parts = err.errors.map((inner: unknown) => errorMessage(inner));
    return [...new Set(parts)].join('; ') || String((err as { code?: string }).code ?? 'connection failed');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Codes of failures to reach or log in to the server, rather than failures of a statement. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
  '53300', // too_many_connections
  '57P03', // cannot_connect_now: the server is starting up or shutting down
]);

/** Whether `err` says the server could not be reached or refused the login. */
export function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECT_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
}
