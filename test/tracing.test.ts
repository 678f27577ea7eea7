// OpenTelemetry through @opentelemetry/api: nothing without an SDK; with one (the SDK's in-memory
// exporter), a span per enqueue whose W3C trace context is stored with the job, and in a real
// worker process a span per run, linked to it, carrying the job's id, name, attempt and queue.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueueBackend } from '../runtime/src/internals.js';
import { parseTraceparent } from '../runtime/src/tracing.js';
import { TracedWorker } from './fixtures/traced-worker.js';
import { openStore, ROOT, testContext, testStoreConfig } from './queue/helpers.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-tracing-'));
test.after(() => rmSync(folder, { recursive: true, force: true }));
const store = testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${folder}/queue.sqlite?mode=rwc` });

interface SpanLine {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

/** Runs the traced worker process until every job is finished, then returns the spans it ended. */
async function runWorkerProcess(backend: QueueBackend): Promise<SpanLine[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/fixtures/traced-worker-process.ts')],
    {
      env: { ...process.env, LOCO_TEST_QUEUE: JSON.stringify(store) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const end = Date.now() + 30_000;
    while ((await backend.list({})).some((job) => job.status !== 'completed')) {
      if (Date.now() > end) throw new Error(`The worker process did not finish the jobs in 30 s; output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, output);
  return output
    .split('\n')
    .filter((line) => line.startsWith('span '))
    .map((line) => JSON.parse(line.slice(5)) as SpanLine);
}

test('without an OpenTelemetry SDK nothing is traced and no trace context is stored', async () => {
  const backend = await openStore(store);
  try {
    const ctx = testContext(backend);
    ctx.queue.register(TracedWorker.build(ctx));
    const id = (await TracedWorker.performLater(ctx, { n: 0 }))!;
    assert.is((await backend.get(id))!.traceparent, null);
    await backend.remove({ statuses: ['queued'] });
  } finally {
    await backend.close();
  }
});

test('a span per enqueue, its trace context stored with the job; in a worker process a span per run, linked to it', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  const backend = await openStore(store);
  try {
    const ctx = testContext(backend);
    ctx.queue.register(TracedWorker.build(ctx));
    const single = (await TracedWorker.performLater(ctx, { n: 1, failOnce: true }))!;
    const [a, b] = (await TracedWorker.performLaterMany(ctx, [{ n: 2 }, { n: 3 }])).map((result) => result.id!);

    const enqueues = exporter.getFinishedSpans();
    assert.equal(
      enqueues.map((span) => [span.name, span.kind]),
      [
        ['enqueue TracedWorker', SpanKind.PRODUCER],
        ['enqueue TracedWorker', SpanKind.PRODUCER],
      ],
    );
    assert.is(enqueues[0].attributes['loco.job.id'], single);
    assert.equal(enqueues[1].attributes['loco.job.ids'], [a, b]);
    assert.is(enqueues[1].attributes['messaging.batch.message_count'], 2);
    const contextOf = (index: number) => enqueues[index].spanContext();
    const stored = async (id: string) => (await backend.get(id))!.traceparent;
    assert.is(await stored(single), `00-${contextOf(0).traceId}-${contextOf(0).spanId}-01`, 'a W3C traceparent');
    assert.is(await stored(a), await stored(b), 'one enqueue call, one span, for both jobs');
    assert.equal(parseTraceparent(await stored(a))?.spanId, contextOf(1).spanId);

    const spans = await runWorkerProcess(backend);
    const runs = spans.filter((span) => span.name === 'run TracedWorker');
    const runsOf = (id: string) => runs.filter((span) => span.attributes['loco.job.id'] === id);
    assert.is(runs.length, 4, 'three jobs, one of them run twice');
    for (const [id, index] of [
      [single, 0],
      [a, 1],
      [b, 1],
    ] as const) {
      for (const run of runsOf(id)) {
        assert.is(run.kind, SpanKind.CONSUMER);
        assert.equal(run.links, [{ traceId: contextOf(index).traceId, spanId: contextOf(index).spanId }]);
        assert.is.not(run.traceId, contextOf(index).traceId, 'a run is a trace of its own, linked to the enqueue');
        assert.is(run.attributes['loco.job.name'], 'TracedWorker');
        assert.is(run.attributes['loco.job.queue'], 'default');
        assert.is(run.attributes['messaging.system'], 'loco');
      }
    }
    const [first, second] = runsOf(single).sort(
      (x, y) => (x.attributes['loco.job.attempt'] as number) - (y.attributes['loco.job.attempt'] as number),
    );
    assert.equal([first.attributes['loco.job.attempt'], second.attributes['loco.job.attempt']], [1, 2]);
    assert.is(first.status.code, SpanStatusCode.ERROR);
    assert.match(first.status.message ?? '', 'first attempt of 1 fails');
    assert.is(first.attributes['loco.job.outcome'], 'retried');
    assert.is(second.status.code, SpanStatusCode.UNSET);
    assert.is(second.attributes['loco.job.outcome'], 'completed');
    for (const run of runs) {
      const work = spans.filter((span) => span.parentSpanId === run.spanId);
      assert.is(work.length, 1, "the worker's own span is a child of its run's span");
      assert.is(work[0].traceId, run.traceId);
    }
  } finally {
    await backend.close();
    trace.disable();
    await provider.shutdown();
  }
});

test.run();
