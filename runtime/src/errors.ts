/** Base class of the errors loco-runtime raises on purpose; each message says what to do. */
export class LocoError extends Error {
  override name = 'LocoError';
}

/** Bad configuration: names the file and key, what was found and what is allowed. */
export class ConfigError extends LocoError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${message}`, options);
  }
}

/** Args that cannot round-trip through JSON, rejected before anything is written. */
export class ArgsError extends LocoError {
  override name = 'ArgsError';
}

/** A queue store that cannot be reached or used. */
export class QueueConnectionError extends LocoError {
  override name = 'QueueConnectionError';
}

/** A worker registry problem: duplicate or unknown names. */
export class RegistryError extends LocoError {
  override name = 'RegistryError';
}

/** Describes any thrown value as text, keeping the stack where there is one. Always a non-empty string. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  if (typeof err === 'string' && err !== '') return err;
  let text: string | undefined;
  try {
    text = JSON.stringify(err);
  } catch {
    text = undefined;
  }
  return `${text === undefined || text === '""' ? String(err) || 'an empty value' : text} (thrown without an Error)`;
}

/** A short description of any value for messages: `the string 'x'`, `number 3`, `a list`, `a mapping`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value)?.constructor?.name as string | undefined) ?? 'Object';
    return name === 'Object' ? 'a mapping' : `a ${name}`;
  }
  if (typeof value === 'string') return `the string '${value}'`;
  return `${typeof value} ${String(value)}`;
}
