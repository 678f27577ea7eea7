/**
 * Reporting: one table with loco's rows beside the peers' (each peer cell with the ratio
 * loco/peer), the drain checks, the issue's targets as PASS/MISS lines, and the loco-gen timing.
 */
import type { BacklogRow } from './backlog.js';
import type { LocoGenResult } from './loco-gen.js';
import { PEERS_BY_STORE } from './peers.js';
import type { Result } from './scenarios.js';
import { SYSTEM_KEYS } from './systems.js';

export type Results = Record<string, Record<string, Result>>;

/** The figure a ratio is taken of: jobs/s for the throughput scenarios, p50 ms for latency. */
function figure(r: Result | undefined, scenario: string): number | undefined {
  if (r?.status !== 'ok') return undefined;
  const value = scenario === 'latency' ? r.p50_ms : r.jobs_per_s;
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/** loco's figure over the peer's, or undefined when either is missing. */
export function ratio(results: Results, ours: string, peer: string, scenario: string): number | undefined {
  const a = figure(results[ours]?.[scenario], scenario);
  const b = figure(results[peer]?.[scenario], scenario);
  return a !== undefined && b !== undefined ? a / b : undefined;
}

const fmtRatio = (x: number | undefined) => (x === undefined ? '' : ` (${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x)`);
const fmtMs = (x: unknown) => (typeof x !== 'number' ? '-' : x >= 100 ? String(Math.round(x)) : x.toFixed(2));

function fmtRate(r: Result | undefined): string {
  if (!r) return '-';
  if (r.status === 'ok') return String(Math.round(r.jobs_per_s as number));
  if (r.status === 'timeout') return r.partial_jobs_per_s != null ? `timeout (~${r.partial_jobs_per_s}/s)` : 'timeout';
  return r.status;
}

function fmtLat(r: Result | undefined): string {
  if (!r) return '-';
  const trio = `${fmtMs(r.p50_ms)}/${fmtMs(r.p95_ms)}/${fmtMs(r.p99_ms)}`;
  if (r.status === 'ok') return trio;
  if (r.status === 'timeout') return r.samples ? `timeout; ${trio} (n=${r.samples})` : 'timeout';
  return r.status;
}

function fmtRss(r: Result | undefined): string {
  return r?.status === 'ok' && typeof r.peak_rss_mb === 'number'
    ? `${r.peak_rss_mb} (${r.rss_at_start_mb} at start)`
    : '-';
}

/** Columns for the scenarios that run only when named, shown when they ran. */
interface ExtraColumn {
  scenario: string;
  title: string;
}
const EXTRA_COLUMNS: ExtraColumn[] = [
  { scenario: 'unique', title: 'unique calls/s' },
  { scenario: 'blocked', title: 'drain behind 10k paused, jobs/s' },
];

/** Rows grouped by store: loco's row first, then its peers, each peer cell with loco/peer. */
function tableRows(results: Results, ours: string[], extras: ExtraColumn[]): string[][] {
  /** The extra columns' cells of a row; `cell` adds loco/peer to a peer's. */
  const asIs = (_scenario: string, text: string) => text;
  const extraCells = (r: Record<string, Result>, cell = asIs) =>
    extras.map(({ scenario }) => cell(scenario, fmtRate(r[scenario])));
  const rows: string[][] = [];
  const seen = new Set<string>();
  for (const key of SYSTEM_KEYS) {
    const name = `loco-${key}`;
    const peers = PEERS_BY_STORE[key].filter((p) => results[p]);
    if (!ours.includes(name) && peers.length === 0) continue;
    if (ours.includes(name)) {
      const r = results[name] ?? {};
      rows.push([
        name,
        fmtRate(r.enqueue),
        fmtRate(r.batch),
        fmtRate(r.drain),
        fmtLat(r.latency),
        fmtRss(r.drain),
        ...extraCells(r),
      ]);
      seen.add(name);
    }
    for (const peer of peers) {
      const r = results[peer];
      const cell = (scenario: string, text: string) =>
        text + (ours.includes(name) ? fmtRatio(ratio(results, name, peer, scenario)) : '');
      rows.push([
        `  ${peer}`,
        cell('enqueue', fmtRate(r.enqueue)),
        cell('batch', fmtRate(r.batch)),
        cell('drain', fmtRate(r.drain)),
        cell('latency', fmtLat(r.latency)),
        '-',
        ...extraCells(r, cell),
      ]);
      seen.add(peer);
    }
  }
  for (const other of Object.keys(results).filter((s) => !seen.has(s))) {
    const r = results[other];
    rows.push([
      `  ${other}`,
      fmtRate(r.enqueue),
      fmtRate(r.batch),
      fmtRate(r.drain),
      fmtLat(r.latency),
      '-',
      ...extraCells(r),
    ]);
  }
  return rows;
}

/** Prints the table, drain checks and problems. */
export function printTable(results: Results, ours: string[]): void {
  const header = [
    'system',
    'enqueue jobs/s',
    'batch jobs/s',
    'drain jobs/s',
    'latency p50/p95/p99 ms',
    'drain worker peak RSS MB',
  ];
  const extras = EXTRA_COLUMNS.filter(({ scenario }) =>
    Object.values(results).some((byScenario) => byScenario[scenario]),
  );
  header.push(...extras.map(({ title }) => title));
  const rows = tableRows(results, ours, extras);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log(
    '(r x) beside a peer figure = loco/peer on the same store: for jobs/s above 1 is better for loco, ' +
      'for latency (p50) below 1 is better.',
  );

  const notes: string[] = [];
  for (const [system, byScenario] of Object.entries(results)) {
    for (const [scenario, r] of Object.entries(byScenario)) {
      if (r.status === 'error') notes.push(`${system}/${scenario}: error: ${r.error}`);
      if (r.handler_calls_after_200ms != null)
        notes.push(`${system}/${scenario}: ${r.handler_calls_after_200ms} handler calls for ${r.jobs} jobs`);
    }
  }
  const checks = Object.entries(results)
    .filter(([, r]) => r.drain?.store_state_after_200ms)
    .map(([s, r]) => `  ${s}: ${JSON.stringify(r.drain.store_state_after_200ms)}`);
  if (checks.length) {
    console.log('\ndrain check (store state 200 ms after the N-th handler call):');
    for (const c of checks) console.log(c);
  }
  const uniqueChecks = Object.entries(results)
    .filter(([, r]) => r.unique?.status === 'ok')
    .map(
      ([s, r]) =>
        `  ${s}: stored ${JSON.stringify(r.unique.stored)} after ${r.unique.calls} calls, expected ${r.unique.expected_stored}`,
    );
  if (uniqueChecks.length) {
    console.log('\nunique check (jobs in the store after the N calls, no worker running):');
    for (const c of uniqueChecks) console.log(c);
  }
  if (notes.length) {
    console.log('\nnotes and problems:');
    for (const n of notes) console.log(`  ${n}`);
  }
}

/** A target of the issue, checked against figures of the same run. */
interface Target {
  label: string;
  ours: string;
  scenario: 'enqueue' | 'drain' | 'latency';
  /** Compared with a peer: loco/peer must be >= min (throughput) or <= max (latency). */
  peer?: string;
  min?: number;
  max?: number;
  /** Compared with an absolute latency in ms instead of a peer. */
  maxMs?: number;
}

const TARGETS: Target[] = [
  { label: 'Redis: drain >= 1.2x BullMQ', ours: 'loco-redis', scenario: 'drain', peer: 'bullmq', min: 1.2 },
  { label: "Redis: latency p50 <= BullMQ's", ours: 'loco-redis', scenario: 'latency', peer: 'bullmq', max: 1 },
  { label: "Redis: enqueue >= BullMQ's", ours: 'loco-redis', scenario: 'enqueue', peer: 'bullmq', min: 1 },
  {
    label: 'Postgres: drain >= 1.3x graphile-worker',
    ours: 'loco-postgres',
    scenario: 'drain',
    peer: 'graphile-worker',
    min: 1.3,
  },
  {
    label: 'Postgres: drain >= 2x pgboss-batch',
    ours: 'loco-postgres',
    scenario: 'drain',
    peer: 'pgboss-batch',
    min: 2,
  },
  {
    label: "Postgres: latency p50 <= graphile-worker's",
    ours: 'loco-postgres',
    scenario: 'latency',
    peer: 'graphile-worker',
    max: 1,
  },
  {
    label: "Postgres: enqueue >= 2x graphile-worker's",
    ours: 'loco-postgres',
    scenario: 'enqueue',
    peer: 'graphile-worker',
    min: 2,
  },
  { label: 'SQLite: drain >= 0.5x sqlite-raw', ours: 'loco-sqlite', scenario: 'drain', peer: 'sqlite-raw', min: 0.5 },
  { label: 'SQLite: latency p50 <= 2 ms', ours: 'loco-sqlite', scenario: 'latency', maxMs: 2 },
  // The floors of issue 15 ("down to the floor on one machine"), all to be met in one run.
  { label: 'Redis: drain >= 0.9x redis-raw', ours: 'loco-redis', scenario: 'drain', peer: 'redis-raw', min: 0.9 },
  { label: 'Redis: drain >= 2x BullMQ', ours: 'loco-redis', scenario: 'drain', peer: 'bullmq', min: 2 },
  { label: "Redis: latency p50 <= 0.8x BullMQ's", ours: 'loco-redis', scenario: 'latency', peer: 'bullmq', max: 0.8 },
  { label: 'SQLite: drain >= 1.4x sqlite-raw', ours: 'loco-sqlite', scenario: 'drain', peer: 'sqlite-raw', min: 1.4 },
  { label: 'Postgres: enqueue >= pg-raw', ours: 'loco-postgres', scenario: 'enqueue', peer: 'pg-raw', min: 1 },
];

export interface TargetLine {
  label: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
  detail: string;
}

function describeMissing(results: Results, system: string, scenario: string): string {
  const r = results[system]?.[scenario];
  if (!r) return `${system} ${scenario} not run`;
  if (r.status === 'n/a') return `${system}: ${r.note ?? 'n/a'}`;
  return `${system} ${scenario}: ${r.status}`;
}

/** Checks every target against this run's figures. */
export function checkTargets(results: Results): TargetLine[] {
  return TARGETS.map((t) => {
    const mine = figure(results[t.ours]?.[t.scenario], t.scenario);
    if (mine === undefined)
      return { label: t.label, verdict: 'n/a', detail: describeMissing(results, t.ours, t.scenario) };
    const unit = t.scenario === 'latency' ? 'ms' : 'jobs/s';
    if (t.maxMs !== undefined) {
      return { label: t.label, verdict: mine <= t.maxMs ? 'PASS' : 'MISS', detail: `${t.ours} p50 ${mine} ms` };
    }
    const theirs = figure(results[t.peer!]?.[t.scenario], t.scenario);
    if (theirs === undefined) {
      const why = results[t.peer!] ? describeMissing(results, t.peer!, t.scenario) : `${t.peer} not run (use --peers)`;
      return { label: t.label, verdict: 'n/a', detail: why };
    }
    const r = mine / theirs;
    const ok = t.min !== undefined ? r >= t.min : r <= t.max!;
    return {
      label: t.label,
      verdict: ok ? 'PASS' : 'MISS',
      detail: `${r.toFixed(2)}x (${t.ours} ${mine} ${unit}, ${t.peer} ${theirs} ${unit})`,
    };
  });
}

export function printTargets(lines: TargetLine[]): void {
  console.log('\ntargets (from the issue, on this run):');
  const width = Math.max(...lines.map((l) => l.label.length));
  for (const l of lines) console.log(`  ${l.verdict.padEnd(4)}  ${l.label.padEnd(width)}  ${l.detail}`);
}

export function printLocoGen(r: LocoGenResult): void {
  console.log('\nloco-gen worker report_worker (fresh copy of a scaffolded app each run):');
  if (r.status !== 'ok') {
    console.log(`  ${r.status}${r.note ? ` (${r.note})` : ''}`);
    return;
  }
  console.log(
    `  median of ${r.runs}: loco-gen ${r.loco_gen_median_ms} ms, node -e 0 ${r.node_median_ms} ms, ` +
      `difference ${r.overhead_ms} ms`,
  );
}

/**
 * The `--backlog` table: per store and backlog size, drain jobs/s and latency p50, each with its
 * ratio to the same store's figure at the smallest backlog run (the goal: within 20% at 1M).
 */
export function printBacklog(rows: BacklogRow[]): void {
  console.log(
    '\nbacklog: N queued jobs of an unregistered name + N queued BenchWorker jobs tagged `elsewhere` + N completed',
  );
  const header = [
    'system',
    'backlog',
    'seeded in',
    'drain jobs/s',
    'latency p50/p95/p99 ms',
    'drain worker peak RSS MB',
  ];
  const lines = [header];
  for (const row of rows) {
    const base = rows.find((other) => other.system === row.system);
    const drain = ratio({ a: { drain: row.drain }, b: { drain: base!.drain } }, 'a', 'b', 'drain');
    const p50 = ratio({ a: { latency: row.latency }, b: { latency: base!.latency } }, 'a', 'b', 'latency');
    lines.push([
      row.system,
      row.backlog.toLocaleString('en'),
      `${row.seed_s} s`,
      `${fmtRate(row.drain)}${row === base ? '' : fmtRatio(drain)}`,
      `${fmtLat(row.latency)}${row === base ? '' : fmtRatio(p50)}`,
      fmtRss(row.drain),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  for (const line of lines) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
