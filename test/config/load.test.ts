import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig, renderConfigTemplate, resolveEnvironment } from '../../runtime/src/internals.js';

const INTERNALS = fileURLToPath(new URL('../../runtime/src/internals.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const roots: string[] = [];

/** An app folder with the given config files. */
function app(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loco-config-'));
  roots.push(root);
  mkdirSync(path.join(root, 'config'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, 'config', name), text);
  return root;
}

function failure(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  throw new assert.Assertion({
    message: 'expected a ConfigError',
    operator: 'throws',
    expects: 'ConfigError',
    actual: 'nothing',
    generated: false,
  });
}

const LOCO_SQLITE = `
workers:
  mode: BackgroundQueue
queue:
  kind: Sqlite
  uri: "{{ get_env(name="SQLTQ_URL", default="sqlite://loco_development.sqlite?mode=rwc") }}"
  dangerously_flush: false
  num_workers: 2
`;

test('the Loco page config loads with defaults and get_env defaults', () => {
  const root = app({ 'development.yaml': LOCO_SQLITE });
  const config = loadConfig({ root, environment: 'development', env: {} });
  assert.is(config.workers.mode, 'BackgroundQueue');
  assert.is(config.queue?.kind, 'Sqlite');
  assert.is(config.queue?.uri, 'sqlite://loco_development.sqlite?mode=rwc');
  assert.is(config.queue?.num_workers, 2);
  assert.is(config.queue?.poll_interval_sec, 1);
  assert.is(config.server.port, 5150);
  assert.is(config.server.binding, 'localhost');
  assert.is(config.environment, 'development');
});

test('get_env reads the environment before the default', () => {
  const root = app({ 'development.yaml': LOCO_SQLITE });
  const config = loadConfig({ root, environment: 'development', env: { SQLTQ_URL: 'sqlite:///tmp/other.sqlite' } });
  assert.is(config.queue?.uri, 'sqlite:///tmp/other.sqlite');
});

test('every Loco queue key is accepted', () => {
  const root = app({
    'production.yaml': `
workers: { mode: BackgroundQueue }
queue:
  kind: Redis
  uri: "{{ get_env(name="REDIS_URL", default="redis://127.0.0.1") }}"
  dangerously_flush: false
  num_workers: 4
  queues: [mailer, default]
  poll_interval_sec: 0.25
  max_connections: 5
  min_connections: 1
  connect_timeout: 500
  idle_timeout: 500
  enable_logging: false
`,
  });
  const config = loadConfig({ root, environment: 'production', env: {} });
  assert.equal(config.queue?.queues, ['mailer', 'default']);
  assert.is(config.queue?.poll_interval_sec, 0.25);
  assert.is(config.queue?.max_connections, 5);
});

test('environment: LOCO_ENV, then NODE_ENV, then development', () => {
  assert.is(resolveEnvironment(undefined, { LOCO_ENV: 'a', NODE_ENV: 'b' }), 'a');
  assert.is(resolveEnvironment(undefined, { NODE_ENV: 'b' }), 'b');
  assert.is(resolveEnvironment(undefined, {}), 'development');
  assert.is(resolveEnvironment('c', { LOCO_ENV: 'a' }), 'c');
});

test('<env>.local.yaml wins over <env>.yaml', () => {
  const root = app({
    'development.yaml': 'workers: { mode: BackgroundQueue }\nqueue: { kind: Sqlite, uri: "sqlite://a.sqlite" }\n',
    'development.local.yaml': 'workers: { mode: BackgroundAsync }\n',
  });
  const config = loadConfig({ root, environment: 'development', env: {} });
  assert.is(config.workers.mode, 'BackgroundAsync');
  assert.match(config.file, /development\.local\.yaml$/);
});

test('unknown kind: names file, key, what was found and what is allowed', () => {
  const root = app({ 'development.yaml': 'queue:\n  kind: Kafka\n  uri: "x"\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(
    err.message,
    "development.yaml: queue.kind: found the string 'Kafka'; allowed: Sqlite, Postgres, Redis.",
  );
});

test('unknown mode, with a hint for the wrong case', () => {
  const root = app({ 'development.yaml': 'workers:\n  mode: backgroundqueue\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(
    err.message,
    "workers.mode: found the string 'backgroundqueue'; allowed: BackgroundQueue, ForegroundBlocking, BackgroundAsync (did you mean BackgroundQueue?).",
  );
});

test('missing uri', () => {
  const root = app({ 'development.yaml': 'queue:\n  kind: Postgres\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(err.message, 'development.yaml: queue.uri: is missing; add uri: to the queue: section.');
});

test('a uri of the wrong scheme for the kind', () => {
  const root = app({ 'development.yaml': 'queue:\n  kind: Postgres\n  uri: redis://127.0.0.1\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(err.message, "queue.uri: kind Postgres needs a URI starting with postgres, found 'redis://127.0.0.1'");
});

test('a kind/scheme mismatch never shows the password, however the URI is written', () => {
  const secrets = ['p@ss', 'se/cret', 'se?cret', 'se#cret', 'pw'];
  for (const uri of [
    'redis://app:p@ss@cache:6379/0',
    'redis://:se/cret@cache',
    'redis://:se?cret@cache:6379',
    'redis://:se#cret@cache',
    'redis//:pw@cache',
    'redis:/:pw@cache',
    'mysql://root:pw@db/app',
  ]) {
    const root = app({ 'development.yaml': `queue:\n  kind: Postgres\n  uri: "${uri}"\n` });
    const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
    assert.match(err.message, 'queue.uri: kind Postgres needs a URI starting with postgres', uri);
    for (const secret of secrets) assert.not.match(err.message, secret, `${uri}: shows ${secret}`);
  }
});

test('errors in rendered config name the environment variable, never its value', () => {
  const file = [
    'queue:',
    '  kind: {{ get_env(name="QUEUE_KIND", default="Redis") }}',
    '  uri: "{{ get_env(name="REDIS_URL", default="redis://127.0.0.1") }}"',
    'server:',
    '  host: {{ get_env(name="PUBLIC_URL", default="http://localhost") }}',
    '',
  ].join('\n');
  const root = app({ 'development.yaml': file });
  const load = (env: Record<string, string>) => failure(() => loadConfig({ root, environment: 'development', env }));

  const quote = load({ REDIS_URL: 'redis://:pa"ssw0rd@cache:6379' });
  assert.match(
    quote.message,
    /development\.yaml: line 3: is not valid YAML once the value of REDIS_URL is filled in \(.+\); the value is not shown here/,
  );
  assert.not.match(quote.message, 'ssw0rd');
  assert.is(quote.cause, undefined, 'the YAML error, which quotes the line, is not kept either');

  const mismatch = load({ QUEUE_KIND: 'Postgres', REDIS_URL: 'redis://:ssw0rd@cache:6379' });
  assert.match(
    mismatch.message,
    'queue.uri: kind Postgres needs a URI starting with postgres, found (the value of REDIS_URL)',
  );
  assert.not.match(mismatch.message, 'cache');

  const host = load({ PUBLIC_URL: 'ftp://internal-ssw0rd-host' });
  assert.match(
    host.message,
    "server.host: expected the app's base URL, such as http://localhost or https://example.com, found (the value of PUBLIC_URL).",
  );
  assert.not.match(host.message, 'ssw0rd');

  // A default is the file's own text, shown as it is.
  const fileDefault = app({
    'development.yaml': 'server:\n  host: {{ get_env(name="PUBLIC_URL", default="ftp://x") }}\n',
  });
  assert.match(
    failure(() => loadConfig({ root: fileDefault, environment: 'development', env: {} })).message,
    "found 'ftp://x'",
  );
});

test('wrong types', () => {
  const cases: Array<[string, string]> = [
    [
      'queue:\n  kind: Sqlite\n  uri: sqlite://x\n  num_workers: two\n',
      "queue.num_workers: expected a whole number from 1 to 10000, found the string 'two'.",
    ],
    [
      'queue:\n  kind: Sqlite\n  uri: sqlite://x\n  num_workers: 0\n',
      'queue.num_workers: expected a whole number from 1 to 10000, found number 0.',
    ],
    [
      'queue:\n  kind: Sqlite\n  uri: sqlite://x\n  dangerously_flush: "yes"\n',
      "queue.dangerously_flush: expected true or false, found the string 'yes'.",
    ],
    [
      'queue:\n  kind: Redis\n  uri: redis://x\n  queues: mailer\n',
      "queue.queues: expected a list of names, found the string 'mailer'.",
    ],
    ['server:\n  port: 99999\n', 'server.port: expected a whole number from 0 to 65535, found number 99999.'],
    ['workers: BackgroundQueue\n', "workers: expected a mapping of keys, found the string 'BackgroundQueue'."],
    [
      'queue:\n  kind: Sqlite\n  uri: sqlite://x\n  num_worker: 2\n',
      'queue.num_worker: unknown key (did you mean num_workers?); the keys of queue: are kind, uri, dangerously_flush, num_workers',
    ],
  ];
  for (const [text, message] of cases) {
    const root = app({ 'development.yaml': text });
    const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
    assert.ok(err.message.includes('development.yaml: '), err.message);
    assert.ok(err.message.includes(message), `${err.message}\n  should include\n${message}`);
  }
});

test('a misspelled top-level section is an error with a did-you-mean, not another mode run silently', () => {
  const root = app({ 'development.yaml': 'worker:\n  mode: BackgroundQueue\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(
    err.message,
    'development.yaml: worker: unknown section (did you mean workers?); the sections are server, workers,',
  );
  // Sections of Loco's config that this runtime does not read are kept for the app.
  const loco = app({ 'development.yaml': 'database:\n  uri: postgres://x\nsettings:\n  answer: 42\n' });
  assert.equal(loadConfig({ root: loco, environment: 'development', env: {} }).extra, {
    database: { uri: 'postgres://x' },
    settings: { answer: 42 },
  });
});

test("server.host is Loco's public base URL: kept, defaulted and checked", () => {
  const root = app({ 'development.yaml': 'server:\n  host: https://jobs.example.com\n' });
  assert.is(loadConfig({ root, environment: 'development', env: {} }).server.host, 'https://jobs.example.com');
  const plain = app({ 'development.yaml': '{}' });
  assert.is(loadConfig({ root: plain, environment: 'development', env: {} }).server.host, 'http://localhost');
  const bad = app({ 'development.yaml': 'server:\n  host: 0.0.0.0\n' });
  const err = failure(() => loadConfig({ root: bad, environment: 'development', env: {} }));
  assert.match(err.message, "server.host: expected the app's base URL, such as http://localhost");
});

test("logger: Loco's keys, checked", () => {
  const root = app({
    'development.yaml': 'logger:\n  enable: true\n  level: debug\n  format: json\n  pretty_backtrace: true\n',
  });
  assert.equal(loadConfig({ root, environment: 'development', env: {} }).logger, {
    enable: true,
    level: 'debug',
    format: 'json',
  });
  const bad = app({ 'development.yaml': 'logger:\n  format: fancy\n' });
  const err = failure(() => loadConfig({ root: bad, environment: 'development', env: {} }));
  assert.match(err.message, "logger.format: found the string 'fancy'; allowed: pretty, compact, json.");
});

test('duration keys have a maximum, said in the message', () => {
  for (const [key, value, allowed] of [
    ['poll_interval_sec', 10_000_000, 'a number from 0.001 to 3600'],
    ['lease_sec', 10_000_000, 'a number from 0.1 to 86400'],
  ] as const) {
    const root = app({ 'development.yaml': `queue:\n  kind: Sqlite\n  uri: sqlite://x\n  ${key}: ${value}\n` });
    const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
    assert.match(err.message, `queue.${key}: expected ${allowed}, found number ${value}.`);
  }
});

test('workers.watchdog_sec: the lease by default, 0 turns it off, a number of seconds checked', () => {
  const load = (text: string) => loadConfig({ root: app({ 'test.yaml': text }), environment: 'test', env: {} });
  assert.is(load('{}').workers.watchdog_sec, 30, 'queue.lease_sec by default');
  assert.is(load('queue:\n  lease_sec: 5\n').workers.watchdog_sec, 5, 'follows the lease');
  assert.is(load('workers:\n  watchdog_sec: 0\n').workers.watchdog_sec, 0);
  assert.is(load('workers:\n  watchdog_sec: 2.5\nqueue:\n  lease_sec: 5\n').workers.watchdog_sec, 2.5);
  const err = failure(() => load('workers:\n  watchdog_sec: -1\n'));
  assert.match(err.message, 'workers.watchdog_sec: expected a number from 0 to 86400, found number -1.');
});

test('workers: shutdown_timeout_sec (30 s) and unhandled_rejection (keep_running) by default, checked', () => {
  const load = (lines: string) =>
    loadConfig({
      root: app({ 'test.yaml': `workers:\n  mode: BackgroundAsync\n${lines}` }),
      environment: 'test',
      env: {},
    });
  assert.equal(load('').workers, {
    mode: 'BackgroundAsync',
    watchdog_sec: 30,
    shutdown_timeout_sec: 30,
    unhandled_rejection: 'keep_running',
  });
  assert.equal(load('  shutdown_timeout_sec: 2.5\n  unhandled_rejection: exit\n').workers, {
    mode: 'BackgroundAsync',
    watchdog_sec: 30,
    shutdown_timeout_sec: 2.5,
    unhandled_rejection: 'exit',
  });
  assert.match(
    failure(() => load('  unhandled_rejection: crash\n')).message,
    "workers.unhandled_rejection: found the string 'crash'; allowed: keep_running, exit.",
  );
  assert.match(
    failure(() => load('  shutdown_timeout_sec: -1\n')).message,
    'workers.shutdown_timeout_sec: expected a number from 0 to 86400, found number -1.',
  );
});

test('queue.max_args_bytes: 1 MiB by default, bytes or a size, at most 64 MiB, said in the message', () => {
  const load = (value?: string) => {
    const line = value === undefined ? '' : `  max_args_bytes: ${value}\n`;
    return loadConfig({ root: app({ 'test.yaml': `queue:\n${line}` }), environment: 'test', env: {} });
  };
  assert.is(load().queue.max_args_bytes, 1024 * 1024);
  assert.is(load('4096').queue.max_args_bytes, 4096);
  assert.is(load('2MiB').queue.max_args_bytes, 2 * 1024 * 1024);
  assert.is(load('5mb').queue.max_args_bytes, 5_000_000);
  assert.is(load('512 KiB').queue.max_args_bytes, 512 * 1024);
  for (const [value, found] of [
    ['lots', "the string 'lots'"],
    ['1GiB', "the string '1GiB'"],
    ['0', 'number 0'],
    ['-5', 'number -5'],
    ['1.5', 'number 1.5'],
  ]) {
    const err = failure(() => load(value));
    assert.match(
      err.message,
      `test.yaml: queue.max_args_bytes: expected a number of bytes or a size such as 512KiB, 1MiB, 5MB or 1GiB, from 1 byte to 64 MiB, found ${found}.`,
    );
  }
});

test('BackgroundAsync takes num_workers from queue: without a kind or uri; BackgroundQueue needs both', () => {
  const root = app({ 'development.yaml': 'workers:\n  mode: BackgroundAsync\nqueue:\n  num_workers: 6\n' });
  const config = loadConfig({ root, environment: 'development', env: {} });
  assert.is(config.queue.num_workers, 6);
  assert.is(config.queue.kind, undefined);
  const queued = app({ 'development.yaml': 'workers:\n  mode: BackgroundQueue\nqueue:\n  num_workers: 6\n' });
  const err = failure(() => loadConfig({ root: queued, environment: 'development', env: {} }));
  assert.match(err.message, 'queue.kind: is missing: workers.mode is BackgroundQueue');
});

test('unknown template function, and an env var with no default', () => {
  const unknown = app({ 'development.yaml': 'queue:\n  kind: Sqlite\n  uri: "{{ get_secret(name="X") }}"\n' });
  const err = failure(() => loadConfig({ root: unknown, environment: 'development', env: {} }));
  assert.match(err.message, "development.yaml: line 3: unknown template function 'get_secret'");
  assert.match(err.message, 'the only function supported is get_env');

  const noDefault = app({ 'development.yaml': 'queue:\n  kind: Redis\n  uri: "{{ get_env(name="REDIS_URL") }}"\n' });
  const missing = failure(() => loadConfig({ root: noDefault, environment: 'development', env: {} }));
  assert.match(
    missing.message,
    'line 3: environment variable REDIS_URL is not set and {{ get_env(name="REDIS_URL") }} gives no default',
  );
  assert.is(
    loadConfig({ root: noDefault, environment: 'development', env: { REDIS_URL: 'redis://h' } }).queue?.uri,
    'redis://h',
  );
});

test('template expressions: numbers and booleans, single quotes, bad syntax', () => {
  assert.is(renderConfigTemplate("n: {{ get_env(name='N', default=4) }}", 'f.yaml', {}), 'n: 4');
  assert.is(renderConfigTemplate('b: {{get_env(name="B",default=true)}}', 'f.yaml', {}), 'b: true');
  const err = failure(() => renderConfigTemplate('x: {{ get_env(name=X) }}', 'f.yaml', {}));
  assert.match(err.message, 'f.yaml: line 1: cannot read the arguments of {{ get_env(name=X) }}');
});

test('a missing config file lists the environments there are', () => {
  const root = app({ 'development.yaml': '{}', 'test.yaml': '{}' });
  const err = failure(() => loadConfig({ root, environment: 'staging', env: {} }));
  assert.match(err.message, "no config file for environment 'staging'. Environments with a config: development, test");
});

test('invalid YAML names the file', () => {
  const root = app({ 'development.yaml': 'queue:\n  kind: [Sqlite\n' });
  const err = failure(() => loadConfig({ root, environment: 'development', env: {} }));
  assert.match(err.message, 'development.yaml: is not valid YAML');
});

test('a config path that is not a regular file, or is too big, is refused at once, naming the file', () => {
  const cases: Array<[string, (file: string) => void, RegExp]> = [
    ['a folder', (file) => mkdirSync(file), /test\.yaml: cannot be read: it is a folder, not a regular file\./],
    [
      'a link to /dev/zero',
      (file) => symlinkSync('/dev/zero', file),
      /test\.yaml: cannot be read: it is a character device \(like \/dev\/zero\), not a regular file\./,
    ],
    [
      'a named pipe with no writer',
      (file) => execFileSync('mkfifo', [file]),
      /test\.yaml: cannot be read: it is a named pipe \(FIFO\), not a regular file\./,
    ],
    [
      'a file over 1 MiB',
      (file) => writeFileSync(file, `# ${'x'.repeat(1024 * 1024)}\n`),
      /test\.yaml: cannot be read: it is 1048579 bytes \(1\.0 MiB\), over the limit of 1 MiB\. A config file is a YAML file of at most 1 MiB/,
    ],
  ];
  for (const [what, make, expected] of cases) {
    const root = app({});
    make(path.join(root, 'config/test.yaml'));
    const started = Date.now();
    const err = failure(() => loadConfig({ root, environment: 'test', env: {} }));
    assert.match(err.message, expected, what);
    assert.ok(Date.now() - started < 1000, `${what}: refused at once`);
  }
  // The local file wins where it exists, so it is the one named when it cannot be read.
  const root = app({ 'test.yaml': '{}' });
  mkdirSync(path.join(root, 'config/test.local.yaml'));
  assert.match(
    failure(() => loadConfig({ root, environment: 'test', env: {} })).message,
    /test\.local\.yaml: cannot be read: it is a folder/,
  );
});

test('a config file that cannot be read says so and how to fix it', () => {
  const root = app({ 'test.yaml': '{}' });
  const file = path.join(root, 'config/test.yaml');
  chmodSync(file, 0o000);
  let message: string;
  if (process.getuid?.() === 0) {
    // Root reads any file: load the config in a child process run as the user nobody (through
    // setpriv), to whom the folders are open and the file is not.
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'config'), 0o755);
    const script = `import { loadConfig } from ${JSON.stringify(INTERNALS)};
try {
  loadConfig({ root: ${JSON.stringify(root)}, environment: 'test', env: {} });
  console.log(JSON.stringify({ loaded: true }));
} catch (err) {
  console.log(JSON.stringify({ name: err.constructor.name, message: err.message }));
}`;
    const child = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        TSX,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8' },
    );
    assert.is(child.status, 0, `the child ran: ${child.stderr}${child.error?.message ?? ''}`);
    const outcome = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    assert.is(outcome.name, 'ConfigError', `a ConfigError, found ${child.stdout}`);
    message = outcome.message;
  } else {
    message = failure(() => loadConfig({ root, environment: 'test', env: {} })).message;
  }
  assert.match(
    message,
    /test\.yaml: cannot be read: permission denied\. Give the user running loco read access to it\./,
  );
});

test.after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

test.run();
