/**
 * The one logger of the runtime: `boot` makes it from the config's `logger:` section and hands it
 * to the stores, the worker loop and the CLI. Its shape is a subset of pino's, so an app that
 * already logs with pino can pass its own (`boot(App, { logger: pino() })`); the built-in one
 * writes pino's JSON lines (`format: json`) or readable lines (`pretty`, `compact`) with no
 * dependency and no worker thread.
 */
import pc from 'picocolors';

/** Log levels, least to most severe. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Output formats: `pretty` (colours and time), `compact` (one plain line), `json` (pino's lines). */
export const LOG_FORMATS = ['pretty', 'compact', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One logging call: a message, or fields and a message, as pino takes them. */
export interface LogFn {
  (message: string): void;
  (fields: object, message: string): void;
}

/** What the runtime logs through. A pino logger has this shape. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Lines below this level are dropped; `silent` drops all. (Default: info) */
  level?: LogLevel | 'silent';
  /** (Default: pretty) */
  format?: LogFormat;
  /** Shown as `name` in JSON lines: the app's name. */
  name?: string;
  /** Where lines go. (Default: info and below to stdout, warn and error to stderr; JSON all to stdout, as pino) */
  write?: (line: string, level: LogLevel) => void;
}

/** pino's numbers for the levels, used in JSON lines. */
const LEVEL_NUMBER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

const PAINT: Record<LogLevel, (text: string) => string> = {
  trace: pc.gray,
  debug: pc.blue,
  info: pc.green,
  warn: pc.yellow,
  error: pc.red,
};

/** Makes the built-in logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = options.level === 'silent' ? Infinity : LEVEL_NUMBER[options.level ?? 'info'];
  const format = options.format ?? 'pretty';
  const write = options.write ?? defaultWrite(format);
  const base: Record<string, unknown> = options.name ? { name: options.name } : {};
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: LogLevel): LogFn =>
      (first: string | object, second?: string) => {
        if (LEVEL_NUMBER[level] < threshold) return;
        const [fields, message] = typeof first === 'string' ? [{}, first] : [first, second ?? ''];
        write(formatLine(format, level, message, { ...bindings, ...fields }), level);
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make(base);
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger({ level: 'silent' });

function defaultWrite(format: LogFormat): (line: string, level: LogLevel) => void {
  return (line, level) => {
    const stream = format !== 'json' && LEVEL_NUMBER[level] >= LEVEL_NUMBER.warn ? process.stderr : process.stdout;
    stream.write(`${line}\n`);
  };
}

function formatLine(format: LogFormat, level: LogLevel, message: string, fields: Record<string, unknown>): string {
  if (format === 'json') {
    return JSON.stringify({ level: LEVEL_NUMBER[level], time: Date.now(), pid: process.pid, ...fields, msg: message });
  }
  const { name: _name, ...shown } = fields;
  const extra = Object.entries(shown)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const text = extra ? `${message} ${format === 'pretty' ? pc.dim(extra) : extra}` : message;
  if (format === 'compact') return `${level.toUpperCase()} ${text}`;
  return `${pc.dim(new Date().toISOString())} ${PAINT[level](level.toUpperCase().padEnd(5))} ${text}`;
}
