import { BYTE_SIZE_HINT, formatBytes, parseByteSize } from '../byte-size.js';
import { ConfigError, describeValue } from '../errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../logger.js';
import { redactPassword } from '../queue/redact.js';

/** How `performLater` runs a job. */
export const WORKER_MODES = ['BackgroundQueue', 'ForegroundBlocking', 'BackgroundAsync'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** The durable queue stores. */
export const QUEUE_KINDS = ['Sqlite', 'Postgres', 'Redis'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** The keys of `queue:` that every mode reads (the pool and the loop), with their defaults. */
export interface QueueSettings {
  /** Delete this queue's own jobs at boot (never anything else). (Default: false) */
  dangerously_flush: boolean;
  /** Jobs one worker process (or the `BackgroundAsync` pool) runs at once. (Default: 2) */
  num_workers: number;
  /** Seconds between polls when no wake-up arrives; fractions allowed, at most 3600. (Default: 1) */
  poll_interval_sec: number;
  /**
   * Jobs a worker process keeps claimed ahead of its free slots while its jobs are short (mean run
   * time under 50 ms), so a freed slot finds its next job waiting; 0 turns it off, at most 10000.
   * (Default: null, meaning 4 × `num_workers`)
   */
  prefetch: number | null;
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
  /** Seconds a claimed job is leased, at most 86400; heartbeats extend it while the job runs. (Default: 30) */
  lease_sec: number;
  /** Logs the store's statements when true (Loco's key). (Default: false) */
  enable_logging: boolean;
  /**
   * Largest args of one job, in bytes of JSON; `performLater`, `loco jobs enqueue` and `import`
   * refuse bigger ones. Bytes or a size such as `512KiB`, at most 64 MiB. (Default: 1 MiB)
   */
  max_args_bytes: number;
}

/** `queue:` of a config file, with defaults applied. `kind` and `uri` are required by `BackgroundQueue` only. */
export interface QueueConfig extends QueueSettings {
  /** Which store backs the queue. */
  kind?: QueueKind;
  /** Connection URI: `sqlite://file.sqlite?mode=rwc`, `postgres://...`, `redis://...` or `redis+cluster://host:port,host:port`. */
  uri?: string;
}

/** A `queue:` config that names a store: what `createBackend` opens. */
export interface StoreConfig extends QueueSettings {
  kind: QueueKind;
  uri: string;
}

/** What a process does with a promise rejection nothing handled (job code that left one behind). */
export const UNHANDLED_REJECTION_POLICIES = ['keep_running', 'exit'] as const;
export type UnhandledRejectionPolicy = (typeof UNHANDLED_REJECTION_POLICIES)[number];

/** `workers:` of a config file. */
export interface WorkersConfig {
  /** How `performLater` runs a job. (Default: BackgroundAsync) */
  mode: WorkerMode;
  /**
   * Seconds the event loop of a worker process (`loco start --worker`, `--server-and-worker`,
   * `--all`) may stay blocked before its watchdog thread logs it and kills the process (SIGKILL)
   * for its supervisor to restart; fractions allowed, 0 turns the watchdog off. (Default:
   * `queue.lease_sec`, since past the lease the blocked process's jobs are given to others anyway)
   */
  watchdog_sec: number;
  /**
   * After a stop signal, how long running jobs get to finish before they are handed back to the
   * queue (due at once, their attempt recorded as interrupted), the shutdown hooks run and the
   * process exits with code 124. (Default: 30)
   */
  shutdown_timeout_sec: number;
  /**
   * A promise rejection nothing handled: `keep_running` logs it (with the worker whose job left it,
   * when that can be told) and serves on; `exit` logs it and exits with code 1 without waiting for
   * running jobs, as Node does by default. (Default: keep_running)
   */
  unhandled_rejection: UnhandledRejectionPolicy;
}

/** `server:` of a config file. */
export interface ServerConfig {
  /** (Default: 5150) */
  port: number;
  /** Address to listen on. (Default: localhost) */
  binding: string;
  /** The app's public base URL, as Loco's `server.host`, for links the app builds. (Default: http://localhost) */
  host: string;
  /**
   * Largest request body the server reads, for every route; a bigger one is answered 413. Bytes
   * or a size such as `512KiB` or Loco's `5mb`, at most 1 GiB. (Default: 1 MiB)
   */
  body_limit: number;
}

/** `logger:` of a config file (Loco's keys). */
export interface LoggerConfig {
  /** Log at all. (Default: true) */
  enable: boolean;
  /** Lines below this level are dropped; the `LOG_LEVEL` environment variable wins. (Default: info) */
  level: LogLevel;
  /** `pretty` for development, `json` (one pino-style object per line) for production. (Default: pretty) */
  format: LogFormat;
}

/** `admin:` of a config file: the jobs dashboard `loco start` serves in its server modes. */
export interface AdminConfig {
  /** Serve the dashboard. (Default: false) */
  enabled: boolean;
  /** Where it is served. (Default: /_admin/jobs) */
  path: string;
  /**
   * The token every request must carry (`Authorization: Bearer <token>`, or through the login
   * form); usually `{{ get_env(name="LOCO_ADMIN_TOKEN", default="") }}`. Also protects
   * `/_metrics` when set. `enabled: true` with an empty token refuses to start. (Default: empty)
   */
  token: string;
}

/** `metrics:` of a config file: Prometheus metrics of the queue. */
export interface MetricsConfig {
  /** Serve the metrics (behind `admin.token` when it is set). (Default: false) */
  enabled: boolean;
  /** Where they are served. (Default: /_metrics) */
  path: string;
}

/** A loaded, validated config file. */
export interface LocoConfig {
  /** The file it came from. */
  file: string;
  server: ServerConfig;
  workers: WorkersConfig;
  /** Always present, with defaults; `kind` and `uri` only where the file names a store. */
  queue: QueueConfig;
  logger: LoggerConfig;
  admin: AdminConfig;
  metrics: MetricsConfig;
  /** Sections of Loco's config this runtime does not read, kept for the app (`database`, `mailer`, `settings`, ...). */
  extra: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

/** The defaults of `queue:`, in one place for boot, the CLI and the docs. */
export const QUEUE_DEFAULTS: QueueSettings = {
  dangerously_flush: false,
  num_workers: 2,
  poll_interval_sec: 1,
  prefetch: null,
  max_connections: 10,
  min_connections: 1,
  connect_timeout: 5000,
  idle_timeout: 10000,
  queues: [],
  lease_sec: 30,
  enable_logging: false,
  max_args_bytes: 1024 * 1024,
};

/** The largest `queue.max_args_bytes`: what one job's args may be at most, as a dump must still be importable. */
export const MAX_ARGS_BYTES_LIMIT = 64 * 1024 * 1024;

/** Top-level sections this runtime reads. */
const SECTIONS = ['server', 'workers', 'queue', 'logger', 'admin', 'metrics'] as const;
/** Top-level sections of Loco's config that this runtime keeps for the app without reading them. */
const PASSED_ON = ['database', 'mailer', 'auth', 'cache', 'initializers', 'settings', 'scheduler', 'static'];

/** The store part of a config, when it names one (`kind` and `uri`). */
export function storeConfig(queue: QueueConfig): StoreConfig | undefined {
  return queue.kind !== undefined && queue.uri !== undefined ? (queue as StoreConfig) : undefined;
}

/** Checks a parsed config document and applies defaults. Throws `ConfigError` naming the key. */
export function validateConfig(doc: unknown, file: string): LocoConfig {
  const root = doc === null || doc === undefined ? {} : doc;
  if (!isRecord(root)) {
    throw new ConfigError(
      file,
      '',
      `expected a mapping of sections (server:, workers:, queue:), found ${describeValue(root)}.`,
    );
  }
  const known = [...SECTIONS, ...PASSED_ON];
  for (const key of Object.keys(root)) {
    if (!known.includes(key)) {
      const hint = suggest(key, known);
      throw new ConfigError(
        file,
        key,
        `unknown section${hint ? ` (did you mean ${hint}?)` : ''}; the sections are ${known.join(', ')}.`,
      );
    }
  }
  const { server, workers, queue, logger, admin, metrics, ...extra } = root;
  const queueConfig = readQueue(queue, file);
  const config: LocoConfig = {
    file,
    server: readServer(server, file),
    workers: readWorkers(workers, file, queueConfig.lease_sec),
    queue: queueConfig,
    logger: readLogger(logger, file),
    admin: readAdmin(admin, file),
    metrics: readMetrics(metrics, file),
    extra,
  };
  if (config.workers.mode === 'BackgroundQueue' && !storeConfig(config.queue)) {
    throw new ConfigError(
      file,
      config.queue.kind === undefined ? 'queue.kind' : 'queue.uri',
      'is missing: workers.mode is BackgroundQueue, which stores jobs in a queue, so queue: needs kind (Sqlite, ' +
        'Postgres or Redis) and uri, for example kind: Sqlite and uri: "sqlite://loco_development.sqlite?mode=rwc"; ' +
        'or use workers.mode: BackgroundAsync.',
    );
  }
  return config;
}

function readServer(raw: unknown, file: string): ServerConfig {
  const section = sectionOf(raw, 'server', file);
  const reader = new SectionReader(section, 'server', file, ['port', 'binding', 'host', 'body_limit']);
  const host = reader.string('host', 'http://localhost');
  if (!/^https?:\/\/[^\s/]+/.test(host)) {
    throw new ConfigError(
      file,
      'server.host',
      `expected the app's base URL, such as http://localhost or https://example.com, found '${host}'.`,
    );
  }
  return {
    port: reader.integer('port', 5150, 0, 65535),
    binding: reader.string('binding', 'localhost'),
    host,
    body_limit: reader.size('body_limit', 1024 * 1024, 1, 1024 ** 3),
  };
}

function readWorkers(raw: unknown, file: string, leaseSec: number): WorkersConfig {
  const section = sectionOf(raw, 'workers', file);
  const reader = new SectionReader(section, 'workers', file, [
    'mode',
    'watchdog_sec',
    'shutdown_timeout_sec',
    'unhandled_rejection',
  ]);
  return {
    mode: reader.oneOf('mode', WORKER_MODES, 'BackgroundAsync'),
    watchdog_sec: reader.number('watchdog_sec', leaseSec, 0, 86_400),
    shutdown_timeout_sec: reader.number('shutdown_timeout_sec', 30, 0, 86_400),
    unhandled_rejection: reader.oneOf('unhandled_rejection', UNHANDLED_REJECTION_POLICIES, 'keep_running'),
  };
}

function readLogger(raw: unknown, file: string): LoggerConfig {
  const section = sectionOf(raw, 'logger', file);
  const reader = new SectionReader(section, 'logger', file, [
    'enable',
    'level',
    'format',
    'pretty_backtrace',
    'override_filter',
  ]);
  reader.boolean('pretty_backtrace', false);
  if (section.override_filter !== undefined) reader.string('override_filter');
  return {
    enable: reader.boolean('enable', true),
    level: reader.oneOf('level', LOG_LEVELS, 'info'),
    format: reader.oneOf('format', LOG_FORMATS, 'pretty'),
  };
}

function readAdmin(raw: unknown, file: string): AdminConfig {
  const section = sectionOf(raw, 'admin', file);
  const reader = new SectionReader(section, 'admin', file, ['enabled', 'path', 'token']);
  const token = section.token ?? '';
  // Never shown back: the message names the type only.
  if (typeof token !== 'string') {
    throw new ConfigError(file, 'admin.token', `expected a string, found a value of type ${typeof token}.`);
  }
  return { enabled: reader.boolean('enabled', false), path: reader.path('path', '/_admin/jobs'), token };
}

function readMetrics(raw: unknown, file: string): MetricsConfig {
  const section = sectionOf(raw, 'metrics', file);
  const reader = new SectionReader(section, 'metrics', file, ['enabled', 'path']);
  return { enabled: reader.boolean('enabled', false), path: reader.path('path', '/_metrics') };
}

function readQueue(raw: unknown, file: string): QueueConfig {
  const section = sectionOf(raw, 'queue', file);
  const reader = new SectionReader(section, 'queue', file, ['kind', 'uri', ...Object.keys(QUEUE_DEFAULTS)]);
  const d = QUEUE_DEFAULTS;
  const config: QueueConfig = {
    kind: section.kind === undefined || section.kind === null ? undefined : reader.oneOf('kind', QUEUE_KINDS),
    uri: section.uri === undefined || section.uri === null ? undefined : reader.string('uri'),
    dangerously_flush: reader.boolean('dangerously_flush', d.dangerously_flush),
    num_workers: reader.integer('num_workers', d.num_workers, 1, 10_000),
    poll_interval_sec: reader.number('poll_interval_sec', d.poll_interval_sec, 0.001, 3600),
    prefetch:
      section.prefetch === undefined || section.prefetch === null
        ? d.prefetch
        : reader.integer('prefetch', undefined, 0, 10_000),
    max_connections: reader.integer('max_connections', d.max_connections, 1, 10_000),
    min_connections: reader.integer('min_connections', d.min_connections, 0, 10_000),
    connect_timeout: reader.integer('connect_timeout', d.connect_timeout, 1, 3_600_000),
    idle_timeout: reader.integer('idle_timeout', d.idle_timeout, 1, 86_400_000),
    queues: reader.stringList('queues', d.queues),
    lease_sec: reader.number('lease_sec', d.lease_sec, 0.1, 86_400),
    enable_logging: reader.boolean('enable_logging', d.enable_logging),
    max_args_bytes: reader.size('max_args_bytes', d.max_args_bytes, 1, MAX_ARGS_BYTES_LIMIT),
  };
  if (config.kind !== undefined && config.uri === undefined) {
    throw new ConfigError(file, 'queue.uri', 'is missing; add uri: to the queue: section.');
  }
  if (config.uri !== undefined && config.kind === undefined) {
    throw new ConfigError(
      file,
      'queue.kind',
      'is missing; add kind: (Sqlite, Postgres or Redis) to the queue: section.',
    );
  }
  const store = storeConfig(config);
  if (store) checkScheme(store, file);
  if (config.min_connections > config.max_connections) {
    throw new ConfigError(
      file,
      'queue.min_connections',
      `is ${config.min_connections}, more than max_connections (${config.max_connections}); lower it or raise max_connections.`,
    );
  }
  return config;
}

function checkScheme(config: StoreConfig, file: string): void {
  const scheme = { Sqlite: 'sqlite:', Postgres: 'postgres', Redis: 'redis' }[config.kind];
  if (config.uri.startsWith(scheme)) return;
  const example = {
    Sqlite: 'sqlite://loco_development.sqlite?mode=rwc',
    Postgres: 'postgres://localhost:5432/mydb',
    Redis: 'redis://127.0.0.1',
  }[config.kind];
  throw new ConfigError(
    file,
    'queue.uri',
    `kind ${config.kind} needs a URI starting with ${scheme}, found '${redactPassword(config.uri)}'; for example "${example}".`,
  );
}

function sectionOf(raw: unknown, key: string, file: string): Raw {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new ConfigError(file, key, `expected a mapping of keys, found ${describeValue(raw)}.`);
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
        const hint = suggest(key, allowed);
        throw new ConfigError(
          file,
          `${name}.${key}`,
          `unknown key${hint ? ` (did you mean ${hint}?)` : ''}; the keys of ${name}: are ${allowed.join(', ')}.`,
        );
      }
    }
  }

  private fail(key: string, expected: string, found: unknown): never {
    throw new ConfigError(this.file, `${this.name}.${key}`, `expected ${expected}, found ${describeValue(found)}.`);
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

  /** A URL path of its own: starts with `/`, is not `/` alone, no trailing `/`, query or fragment. */
  path(key: string, fallback: string): string {
    const value = this.string(key, fallback);
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(value))
      this.fail(key, 'a path such as /_admin/jobs (letters, digits, . _ ~ -)', value);
    return value;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const value = this.value(key, fallback);
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value);
    return value;
  }

  number(key: string, fallback: number | undefined, min: number, max: number): number {
    const value = this.value(key, fallback);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(key, `a number from ${min} to ${max}`, value);
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

  /** Bytes, or a size such as `1MiB` or `5mb`. */
  size(key: string, fallback: number, min: number, max: number): number {
    const value = this.value(key, fallback);
    const bytes = parseByteSize(value);
    if (bytes === undefined || bytes < min || bytes > max) {
      this.fail(key, `${BYTE_SIZE_HINT}, from ${formatBytes(min)} to ${formatBytes(max)}`, value);
    }
    return bytes;
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
      const hint = typeof value === 'string' ? suggest(value, allowed) : undefined;
      throw new ConfigError(
        this.file,
        `${this.name}.${key}`,
        `found ${describeValue(value)}; allowed: ${allowed.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}.`,
      );
    }
    return value as T;
  }
}

/**
 * The allowed word `value` was most likely meant to be: the same but for case, one with a letter
 * more or less (`worker` for `workers`), or the nearest within two edits.
 */
export function suggest(value: string, allowed: readonly string[]): string | undefined {
  const lower = value.toLowerCase();
  const same = allowed.find((option) => option.toLowerCase() === lower);
  if (same) return same;
  let best: { option: string; distance: number } | undefined;
  for (const option of allowed) {
    const distance = editDistance(lower, option.toLowerCase());
    if (distance <= 2 && distance < Math.max(lower.length, option.length) && (!best || distance < best.distance)) {
      best = { option, distance };
    }
  }
  return best?.option;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Whether a parsed YAML value is a mapping. */
export function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
