import { ConfigError } from '../errors.js';

/** How `performLater` runs a job. */
export const WORKER_MODES = ['BackgroundQueue', 'ForegroundBlocking', 'BackgroundAsync'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** The durable queue stores. */
export const QUEUE_KINDS = ['Sqlite', 'Postgres', 'Redis'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** `queue:` of a config file, with defaults applied. */
export interface QueueConfig {
  /** Which store backs the queue. */
  kind: QueueKind;
  /** Connection URI: `sqlite://file.sqlite?mode=rwc`, `postgres://...`, `redis://...`. */
  uri: string;
  /** Delete this queue's own jobs at boot (never anything else). (Default: false) */
  dangerously_flush: boolean;
  /** Jobs one worker process runs at once. (Default: 2) */
  num_workers: number;
  /** Seconds between polls when no wake-up arrives; fractions allowed. (Default: 1) */
  poll_interval_sec: number;
  /** Largest connection pool (Postgres). (Default: 10) */
  max_connections: number;
  /** Connections kept open (Postgres). (Default: 1) */
  min_connections: number;
  /** Milliseconds to wait for a connection. (Default: 5000) */
  connect_timeout: number;
  /** Milliseconds an idle pooled connection is kept. (Default: 10000) */
  idle_timeout: number;
  /** Named queues in priority order (Redis, as in Loco); the default queue comes last. (Default: []) */
  queues: string[];
  /** Seconds a claimed job is leased; heartbeats extend it while the job runs. (Default: 30) */
  lease_sec: number;
  /** Accepted for compatibility with Loco's config; logs SQL statements when true. (Default: false) */
  enable_logging: boolean;
}

/** `workers:` of a config file. */
export interface WorkersConfig {
  /** How `performLater` runs a job. (Default: BackgroundAsync) */
  mode: WorkerMode;
}

/** `server:` of a config file. */
export interface ServerConfig {
  /** (Default: 5150) */
  port: number;
  /** Address to listen on. (Default: localhost) */
  binding: string;
}

/** A loaded, validated config file. */
export interface LocoConfig {
  /** The file it came from. */
  file: string;
  server: ServerConfig;
  workers: WorkersConfig;
  /** Absent when the file has no `queue:`; required by `BackgroundQueue`. */
  queue?: QueueConfig;
  /** Sections this runtime does not read, kept for the app (`logger`, `database`, ...). */
  extra: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

const QUEUE_DEFAULTS: Omit<QueueConfig, 'kind' | 'uri'> = {
  dangerously_flush: false,
  num_workers: 2,
  poll_interval_sec: 1,
  max_connections: 10,
  min_connections: 1,
  connect_timeout: 5000,
  idle_timeout: 10000,
  queues: [],
  lease_sec: 30,
  enable_logging: false,
};

/** Checks a parsed config document and applies defaults. Throws `ConfigError` naming the key. */
export function validateConfig(doc: unknown, file: string): LocoConfig {
  const root = doc === null || doc === undefined ? {} : doc;
  if (!isRecord(root)) {
    throw new ConfigError(
      file,
      '',
      `expected a mapping of sections (server:, workers:, queue:), found ${describe(root)}.`,
    );
  }
  const { server, workers, queue, ...extra } = root;
  return {
    file,
    server: readServer(server, file),
    workers: readWorkers(workers, file),
    queue: queue === undefined || queue === null ? undefined : readQueue(queue, file),
    extra,
  };
}

function readServer(raw: unknown, file: string): ServerConfig {
  const section = sectionOf(raw, 'server', file);
  const reader = new SectionReader(section, 'server', file, ['port', 'binding', 'host']);
  return {
    port: reader.integer('port', 5150, 0, 65535),
    binding: reader.string('binding', 'localhost'),
  };
}

function readWorkers(raw: unknown, file: string): WorkersConfig {
  const section = sectionOf(raw, 'workers', file);
  const reader = new SectionReader(section, 'workers', file, ['mode']);
  return { mode: reader.oneOf('mode', WORKER_MODES, 'BackgroundAsync') };
}

function readQueue(raw: unknown, file: string): QueueConfig {
  const section = sectionOf(raw, 'queue', file);
  const reader = new SectionReader(section, 'queue', file, ['kind', 'uri', ...Object.keys(QUEUE_DEFAULTS)]);
  const kind = reader.oneOf('kind', QUEUE_KINDS);
  const d = QUEUE_DEFAULTS;
  const config: QueueConfig = {
    kind,
    uri: reader.string('uri'),
    dangerously_flush: reader.boolean('dangerously_flush', d.dangerously_flush),
    num_workers: reader.integer('num_workers', d.num_workers, 1, 10_000),
    poll_interval_sec: reader.number('poll_interval_sec', d.poll_interval_sec, 0.001),
    max_connections: reader.integer('max_connections', d.max_connections, 1, 10_000),
    min_connections: reader.integer('min_connections', d.min_connections, 0, 10_000),
    connect_timeout: reader.integer('connect_timeout', d.connect_timeout, 1, 3_600_000),
    idle_timeout: reader.integer('idle_timeout', d.idle_timeout, 1, 86_400_000),
    queues: reader.stringList('queues', d.queues),
    lease_sec: reader.number('lease_sec', d.lease_sec, 0.1),
    enable_logging: reader.boolean('enable_logging', d.enable_logging),
  };
  const scheme = { Sqlite: 'sqlite:', Postgres: 'postgres', Redis: 'redis' }[kind];
  if (!config.uri.startsWith(scheme)) {
    const example = {
      Sqlite: 'sqlite://loco_development.sqlite?mode=rwc',
      Postgres: 'postgres://localhost:5432/mydb',
      Redis: 'redis://127.0.0.1',
    }[kind];
    throw new ConfigError(
      file,
      'queue.uri',
      `kind ${kind} needs a URI starting with ${scheme}, found '${config.uri}'; for example "${example}".`,
    );
  }
  if (config.min_connections > config.max_connections) {
    throw new ConfigError(
      file,
      'queue.min_connections',
      `is ${config.min_connections}, more than max_connections (${config.max_connections}); lower it or raise max_connections.`,
    );
  }
  return config;
}

function sectionOf(raw: unknown, key: string, file: string): Raw {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new ConfigError(file, key, `expected a mapping of keys, found ${describe(raw)}.`);
  return raw;
}

/** Reads typed keys of one section, each error naming `section.key`, what was found and what is allowed. */
class SectionReader {
  constructor(
    private readonly section: Raw,
    private readonly name: string,
    private readonly file: string,
    allowed: string[],
  ) {
    for (const key of Object.keys(section)) {
      if (!allowed.includes(key)) {
        throw new ConfigError(file, `${name}.${key}`, `unknown key; the keys of ${name}: are ${allowed.join(', ')}.`);
      }
    }
  }

  private fail(key: string, expected: string, found: unknown): never {
    throw new ConfigError(this.file, `${this.name}.${key}`, `expected ${expected}, found ${describe(found)}.`);
  }

  private value(key: string, fallback: unknown): unknown {
    const value = this.section[key];
    if (value === undefined || value === null) {
      if (fallback === undefined) {
        throw new ConfigError(
          this.file,
          `${this.name}.${key}`,
          `is missing; add ${key}: to the ${this.name}: section.`,
        );
      }
      return fallback;
    }
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.value(key, fallback);
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, 'a non-empty string', value);
    return value;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const value = this.value(key, fallback);
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value);
    return value;
  }

  number(key: string, fallback: number | undefined, min: number): number {
    const value = this.value(key, fallback);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.fail(key, `a number >= ${min}`, value);
    }
    return value;
  }

  integer(key: string, fallback: number | undefined, min: number, max: number): number {
    const value = this.value(key, fallback);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(key, `a whole number from ${min} to ${max}`, value);
    }
    return value;
  }

  stringList(key: string, fallback: string[]): string[] {
    const value = this.value(key, fallback);
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      this.fail(key, 'a list of names', value);
    }
    return value as string[];
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const value = this.value(key, fallback);
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      const hint = typeof value === 'string' ? closest(value, allowed) : undefined;
      throw new ConfigError(
        this.file,
        `${this.name}.${key}`,
        `found ${describe(value)}; allowed: ${allowed.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}.`,
      );
    }
    return value as T;
  }
}

function closest(value: string, allowed: readonly string[]): string | undefined {
  return allowed.find((option) => option.toLowerCase() === value.toLowerCase());
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value}'`;
  return `${typeof value} ${String(value)}`;
}
