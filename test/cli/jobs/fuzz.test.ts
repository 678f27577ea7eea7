// Round trips of random job args and fields, within the limits, on every store: what is
// enqueued is listed as it was, and on the durable stores `loco jobs list`, `dump` and `import`
// bring every job back identically (args byte for byte as JSON, key order included), ready for a
// worker to claim.
//
// Seeded: each run prints its seed, and LOCO_FUZZ_SEED=<seed> replays it. Bounded: a fixed
// number of jobs per store, a few seconds each.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_ARGS_DEPTH } from '../../../runtime/src/args.js';
import { formatDump, parseDump } from '../../../runtime/src/cli/jobs/dump-format.js';
import { type JobRecord, Queue, type QueueBackend } from '../../../runtime/src/internals.js';
import { MAX_ATTEMPTS, MAX_RUN_AT, MAX_TAGS } from '../../../runtime/src/job-limits.js';
import { InProcessBackend } from '../../../runtime/src/queue/memory/backend.js';
import { openStore, testStoreConfig } from '../../queue/helpers.js';
import { postgresStore, redisStore, sqliteStore, type TestStore } from '../../stores.js';
import { copyFixtureApp, runLoco } from '../helpers.js';

const SEED = Number(process.env.LOCO_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const JOBS = 40;
const MAX_ARGS_BYTES = 1024 * 1024;
const WORKERS = ['DownloadWorker', 'EmailWorker', 'ReportWorker'];
console.log(`  fuzz seed ${SEED} (LOCO_FUZZ_SEED=${SEED} replays this run)`);

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

/** Text YAML, JSON and the stores treat specially, alone or inside longer strings. */
const TRICKY = [
  '',
  ' ',
  'null',
  '~',
  'yes',
  'No',
  'true',
  '0x1F',
  '1e3',
  '.inf',
  '-.nan',
  '012',
  '- ',
  '? ',
  ': ',
  ' #',
  '&a',
  '*a',
  '!tag',
  '%YAML',
  '@',
  '`',
  '|',
  '>',
  '"',
  "'",
  '\\',
  '\\u0000',
  '---',
  '...',
  '__proto__',
  'constructor',
  '<<',
  '{}',
  '[]',
  '\u0000',
  '\t',
  '\r\n',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffe',
  '\u001b[31m',
  'é',
  'ß',
  'İ',
  '中文',
  'עברית',
  'a\u0301',
  '😀',
  '👩🏽‍💻',
  '\ud800',
  '\udfff',
];

function text(random: Random, maxLength: number): string {
  let out = '';
  const length = random.int(0, maxLength);
  while (out.length < length) {
    const roll = random.next();
    if (roll < 0.3) out += random.pick(TRICKY);
    else if (roll < 0.6) out += String.fromCharCode(random.int(0x20, 0x7e));
    else if (roll < 0.8) out += String.fromCodePoint(random.int(0xa0, 0xd7ff));
    else if (roll < 0.9) out += String.fromCodePoint(random.int(0x10000, 0x10ffff));
    else out += String.fromCharCode(random.int(0, 0x1f));
  }
  return out;
}

function number(random: Random): number {
  switch (random.int(0, 5)) {
    case 0:
      return random.int(-1000, 1000);
    case 1:
      return random.pick([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, -0, 0]);
    case 2:
      return random.pick([Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1e21, 1e-7, 123456789.125]);
    case 3:
      return (random.next() - 0.5) * 10 ** random.int(-300, 300);
    default:
      return random.next();
  }
}

/** A random JSON value, at most `depth` levels of lists and objects deep. */
function value(random: Random, depth: number): unknown {
  const roll = random.next();
  if (depth > 0 && roll < 0.25) {
    return Array.from({ length: random.int(0, 4) }, () => value(random, depth - 1));
  }
  if (depth > 0 && roll < 0.5) {
    const object: Record<string, unknown> = {};
    for (let i = random.int(0, 4); i > 0; i--) {
      // As JSON.parse makes it: an own property, even for the key __proto__.
      Object.defineProperty(object, text(random, 8), {
        value: value(random, depth - 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }
  if (roll < 0.6) return null;
  if (roll < 0.7) return random.next() < 0.5;
  if (roll < 0.85) return number(random);
  return text(random, 40);
}

/** Args `levels` deep exactly, the innermost holding something random. */
function deep(random: Random, levels: number): unknown {
  let inner = value(random, 0);
  for (let i = 0; i < levels; i++) inner = random.next() < 0.5 ? [inner] : { [text(random, 3)]: inner };
  return inner;
}

/** Args of nearly `MAX_ARGS_BYTES` bytes of JSON, mixing one-, two-, three- and four-byte characters. */
function big(random: Random): unknown {
  const piece = text(random, 200) || 'x';
  let body = piece.repeat(Math.ceil((MAX_ARGS_BYTES * 0.95) / (Buffer.byteLength(JSON.stringify(piece)) || 1)));
  while (Buffer.byteLength(JSON.stringify({ big: body })) > MAX_ARGS_BYTES) body = body.slice(0, -1000);
  // Never end on half a surrogate pair: cutting it would make a different string.
  return { big: body.replace(/[\ud800-\udbff]$/, '') };
}

/** A tag or queue name: random text without NUL or lone surrogates, which job-limits refuses. */
function name(random: Random): string {
  const tag = text(random, 12)
    .replaceAll('\u0000', '')
    .replace(/\p{Surrogate}/gu, '');
  return tag === '' ? 'tag' : tag;
}

interface Planned {
  name: string;
  args: unknown;
  tags: string[];
  queue: string | null;
  maxAttempts: number;
  interval: number | undefined;
  delay: number;
}

function plan(random: Random): Planned[] {
  return Array.from({ length: JOBS }, (_, i) => ({
    name: random.pick(WORKERS),
    args: i === 0 ? deep(random, MAX_ARGS_DEPTH - 1) : i === 1 ? big(random) : value(random, random.int(0, 6)),
    tags: [...new Set(Array.from({ length: random.pick([0, 0, 1, 3, MAX_TAGS]) }, () => name(random)))],
    queue: random.next() < 0.5 ? null : name(random),
    maxAttempts: random.pick([1, 3, random.int(1, 1000), MAX_ATTEMPTS]),
    interval: random.next() < 0.7 ? undefined : random.int(1, 36_500 * 86_400_000),
    // Now, a fraction of a millisecond, days to years ahead, or a minute before the last time a job may have.
    delay: random.pick([0, 0.5, random.int(86_400_000, 3650 * 86_400_000), MAX_RUN_AT - Date.now() - 60_000]),
  }));
}

async function enqueue(backend: QueueBackend, jobs: Planned[]): Promise<string[]> {
  const queue = new Queue('BackgroundQueue', backend);
  const ids: string[] = [];
  for (const job of jobs) {
    const [{ id }] = await queue.enqueueByName(job.name, [job.args], {
      tags: job.tags,
      queue: job.queue,
      maxAttempts: job.maxAttempts,
      interval: job.interval,
      delay: job.delay,
    });
    ids.push(id!);
  }
  return ids;
}

/** What must come back identically: args as JSON text (key order included), name, tags, queue, interval, attempts. */
function identity(job: Pick<JobRecord, 'name' | 'task_data' | 'tags' | 'queue' | 'interval' | 'max_attempts'>): string {
  return JSON.stringify([job.name, JSON.stringify(job.task_data), job.tags, job.queue, job.interval, job.max_attempts]);
}

function expected(job: Planned): string {
  return identity({
    name: job.name,
    task_data: JSON.parse(JSON.stringify(job.args)),
    tags: job.tags,
    queue: job.queue,
    interval: job.interval ?? null,
    max_attempts: job.maxAttempts,
  });
}

/** The first planned job whose stored form differs, for the failure message. */
function firstDifference(jobs: Planned[], stored: string[]): string {
  const missing = jobs.map(expected).find((want) => !stored.includes(want));
  return missing === undefined ? '' : `not found: ${missing.slice(0, 400)}`;
}

test('in-process store: random args and fields are kept as given, and dump and parse back', async () => {
  const random = generator(SEED);
  const jobs = plan(random);
  const backend = new InProcessBackend();
  await backend.init({ flush: false });
  try {
    const ids = await enqueue(backend, jobs);
    const byId = new Map((await backend.list({})).map((job) => [job.id, job]));
    const stored = ids.map((id) => identity(byId.get(id)!));
    assert.equal(stored, jobs.map(expected), `seed ${SEED}`);
    const entries = parseDump(formatDump([...byId.values()]), 'dump.yaml', WORKERS);
    assert.equal(
      entries.map((entry) =>
        identity({
          ...entry,
          tags: entry.tags ?? [],
          queue: entry.queue ?? null,
          interval: entry.interval ?? null,
          max_attempts: entry.max_attempts!,
        }),
      ),
      [...byId.values()].map(identity),
      `seed ${SEED}: parsed back`,
    );
  } finally {
    await backend.close();
  }
});

// Found by seed 695955700: yaml wrote a tag " \n" as a block scalar that read back as "\n".
test('strings of only spaces and line breaks dump and parse back as they were', () => {
  const strings = [' \n', '  \n\n', ' \n a', '\t\n', 'a\n \nb'];
  const job: JobRecord = {
    id: '01J0000000000000000000000A',
    name: 'DownloadWorker',
    task_data: { strings },
    status: 'failed',
    run_at: 1,
    interval: null,
    tags: strings,
    queue: ' \n',
    priority: 0,
    key: null,
    attempts: 1,
    max_attempts: 1,
    last_error: ' \n',
    lease_until: null,
    created_at: 1,
    updated_at: 1,
    traceparent: null,
  };
  const [entry] = parseDump(formatDump([job]), 'dump.yaml', WORKERS);
  assert.equal([entry.task_data, entry.tags, entry.queue, entry.last_error], [{ strings }, strings, ' \n', ' \n']);
});

for (const store of [sqliteStore('fuzz'), postgresStore('fuzz'), redisStore('fuzz')] as TestStore[]) {
  test(`${store.name}: random args and fields list, dump and import back identically`, async () => {
    const random = generator(SEED + store.name.length);
    const jobs = plan(random);
    const uri = store.fresh();
    const env = { LOCO_TEST_QUEUE_KIND: store.kind, LOCO_TEST_QUEUE_URI: uri };
    const app = copyFixtureApp();
    const backend = await openStore(testStoreConfig({ kind: store.kind, uri }));
    try {
      const started = Date.now();
      const ids = await enqueue(backend, jobs);
      const byId = new Map((await backend.list({})).map((job) => [job.id, job]));
      assert.equal(
        ids.map((id) => identity(byId.get(id)!)),
        jobs.map(expected),
        `seed ${SEED}: stored as enqueued`,
      );

      const loco = (...args: string[]) => runLoco(app, ['jobs', ...args, '-e', 'test'], env);
      const [list, dump] = await Promise.all([loco('list', '--limit', String(JOBS)), loco('dump', '--folder', 'fuzz')]);
      assert.is(list.code, 0, `seed ${SEED}: list: ${list.stderr}`);
      assert.match(list.stdout, `${JOBS} jobs, newest first.`);
      assert.is(dump.code, 0, `seed ${SEED}: dump: ${dump.stderr}`);
      const file = path.join(app, /Wrote \d+ jobs to (\S+)/.exec(dump.stdout)![1]);

      await backend.remove({ statuses: ['queued'] });
      const imported = await loco('import', '--file', file);
      assert.is(imported.code, 0, `seed ${SEED}: import: ${imported.stderr}`);
      const after = await backend.list({});
      const back = after.map(identity);
      assert.equal(
        back.sort(),
        jobs.map(expected).sort(),
        `seed ${SEED}: imported back; ${firstDifference(jobs, back)}`,
      );
      // A run_at still ahead is kept by import; an earlier one becomes the import's time.
      const ahead = (rows: JobRecord[]) =>
        rows
          .filter((job) => job.run_at > started + 60_000)
          .map((job) => `${identity(job)} ${job.run_at}`)
          .sort();
      assert.equal(ahead(after), ahead([...byId.values()]), `seed ${SEED}: later run_at values are kept`);

      // And a worker gets them as they were: every lane (queue, name, tags) is claimable.
      const claimed = await backend.claim({
        names: WORKERS,
        tags: [],
        anyTag: true,
        limit: JOBS * 2,
        leaseMs: 60_000,
        now: MAX_RUN_AT,
      });
      assert.equal(claimed.map(identity).sort(), jobs.map(expected).sort(), `seed ${SEED}: claimed as enqueued`);
    } finally {
      await backend.close();
      await store.drop();
      rmSync(app, { recursive: true, force: true });
    }
  });
}

test.run();
