/**
 * OpenTelemetry traces through `@opentelemetry/api` only: a no-op unless the app installs and
 * registers an SDK. Each enqueue call gets a span (kind PRODUCER), whose W3C trace context
 * (`traceparent`) is stored with its jobs; each run of a job gets a span (kind CONSUMER) linked to
 * that context, and `perform` runs inside it, so the spans the worker makes are its children.
 */
import {
  type Attributes,
  context,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { ClaimedJob, JobOutcome, NewJob } from './queue/backend.js';

/** The tracer's name (the instrumentation scope of every span here). */
export const TRACER_NAME = 'loco-runtime';

const tracer = () => trace.getTracer(TRACER_NAME);

/** The provider the API falls back to while no SDK is registered: its spans record nothing. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether an SDK is registered. Without one every span is a no-op, and skipping them spares each
 * enqueue and run the work of making one (about 15% of an in-process drain).
 */
function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/** `00-<trace id>-<span id>-<flags>`: a W3C `traceparent`, version 00. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` of a span context, or `null` for an invalid (no-op) one. */
export function formatTraceparent(span: SpanContext): string | null {
  if (!isSpanContextValid(span)) return null;
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The span context of a stored `traceparent`, or `undefined` when there is none or it is malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match) return undefined;
  const span: SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: Number.parseInt(match[3], 16),
    isRemote: true,
  };
  return isSpanContextValid(span) ? span : undefined;
}

/**
 * Runs `insert` (the store's enqueue of `jobs`) inside an `enqueue <name>` span, each job carrying
 * the span's `traceparent`; the span gets the job ids once they are known.
 */
export async function traceEnqueue<T extends Array<{ id: string | undefined }>>(
  jobs: NewJob[],
  insert: (jobs: NewJob[]) => Promise<T>,
): Promise<T> {
  if (!tracing()) return insert(jobs);
  const names = [...new Set(jobs.map((job) => job.name))];
  const attributes: Attributes = {
    'messaging.system': 'loco',
    'messaging.operation.type': 'send',
    'messaging.destination.name': jobs[0].queue ?? 'default',
    'messaging.batch.message_count': jobs.length,
    'loco.job.name': names.length === 1 ? names[0] : names.join(','),
  };
  return tracer().startActiveSpan(
    `enqueue ${attributes['loco.job.name']}`,
    { kind: SpanKind.PRODUCER, attributes },
    async (span) => {
      const traceparent = formatTraceparent(span.spanContext());
      try {
        // A job that has one already (imported from a dump) keeps it.
        const results = await insert(
          traceparent ? jobs.map((job) => ({ ...job, traceparent: job.traceparent ?? traceparent })) : jobs,
        );
        if (results.length === 1 && results[0].id) span.setAttribute('loco.job.id', results[0].id);
        else
          span.setAttribute(
            'loco.job.ids',
            results.flatMap((result) => (result.id ? [result.id] : [])),
          );
        return results;
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs one attempt of `job` inside a `run <name>` span linked to its enqueue's context; the span
 * ends with the attempt's outcome (an error status when it failed). `run` never throws.
 */
export function traceRun(job: ClaimedJob, run: () => Promise<JobOutcome>): Promise<JobOutcome> {
  if (!tracing()) return run();
  const enqueued = parseTraceparent(job.traceparent);
  const links: Link[] = enqueued ? [{ context: enqueued }] : [];
  const attributes: Attributes = {
    'messaging.system': 'loco',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queue ?? 'default',
    'messaging.message.id': job.id,
    'loco.job.id': job.id,
    'loco.job.name': job.name,
    'loco.job.attempt': job.attempts,
    'loco.job.queue': job.queue ?? 'default',
  };
  // A run is a trace of its own (the enqueue may have been long ago), linked to where it came from.
  return tracer().startActiveSpan(
    `run ${job.name}`,
    { kind: SpanKind.CONSUMER, links, attributes, root: true },
    context.active(),
    async (span) => {
      try {
        const outcome = await run();
        if (typeof outcome.error === 'string') {
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.split('\n')[0] });
          span.setAttribute('loco.job.outcome', outcome.status === 'failed' ? 'failed' : 'retried');
        } else {
          span.setAttribute('loco.job.outcome', 'completed');
        }
        return outcome;
      } finally {
        span.end();
      }
    },
  );
}
