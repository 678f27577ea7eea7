/**
 * loco-ts benchmark: the peers harness's scenarios (enqueue, batch, drain, latency) run against
 * loco's backends through the public API, optionally beside the peers' own run.
 *   npm run bench [-- --n 5000 --concurrency 10 --only sqlite,async --peers --json out.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBacklog } from './backlog.js';
import { messageOf, now, round } from './common.js';
import { type LocoGenResult, measureLocoGen } from './loco-gen.js';
import { PEERS_BY_STORE, type PeersOutput, preparePeers, runPeers } from './peers.js';
import { checkTargets, printBacklog, printLocoGen, printTable, printTargets, type Results } from './report.js';
import { mergeRounds } from './rounds.js';
import {
  type BenchConfig,
  DEFAULT_SCENARIOS,
  type Result,
  runScenario,
  SCENARIOS,
  type Scenario,
} from './scenarios.js';
import { makeSystem, SYSTEM_KEYS, type SystemKey } from './systems.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS_DIR = path.resolve(ROOT, '../shared/bench/peers');

const USAGE = `usage: npm run bench -- [options]
  --n N                 jobs per enqueue/drain scenario (default 5000)
  --concurrency C       num_workers for drain and latency (default 10)
  --only a,b,...        loco backends to run (default all): ${SYSTEM_KEYS.join(', ')}
  --scenarios a,b,...   scenarios to run (default: ${DEFAULT_SCENARIOS.join(', ')}; also: unique)
  --json FILE           also write the results as JSON (the peers harness's shape)
  --batch B             jobs per performLaterMany call (default 1000)
  --timeout S           per-scenario timeout in seconds (default 120), also passed to the peers
  --latency-samples K   latency probes (default 200, after 5 unrecorded warm-up probes)
  --latency-gap-ms G    pause between latency probes (default 5)
  --peers               also run ../shared/bench/peers with the same settings, and compare
  --peers-timeout S     the peers' per-scenario timeout instead of --timeout
  --rounds R            run everything R times (ours, then the peers', in turn) and report
                        each figure's median round (default 1; use an odd R)
  --gen-runs R          runs of the loco-gen timing (default 7; 0 skips it)
  --backlog N,N,...     instead of the scenarios: drain and latency on a store already holding N queued
                        jobs of an unregistered name, N queued jobs with a tag the worker does not
                        take and N completed jobs, for each N (e.g. 0,100000,1000000); ours only
  --profile DIR         write --cpu-prof profiles of each drain worker process into DIR/drain-<system>/
  --drain-node-flags=F  node options for the drain worker processes only, space-separated, after
                        an = sign (e.g. --drain-node-flags=--optimize-for-size: see the README's
                        Worker memory)
  --help`;

interface Cli extends BenchConfig {
  only: SystemKey[];
  scenarios: Scenario[];
  json?: string;
  peers: boolean;
  peersTimeoutS: number;
  rounds: number;
  genRuns: number;
  backlog?: number[];
}

function parseCli(): Cli {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '5000' },
      concurrency: { type: 'string', short: 'c', default: '10' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      json: { type: 'string' },
      batch: { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '120' },
      'latency-samples': { type: 'string', default: '200' },
      'latency-gap-ms': { type: 'string', default: '5' },
      peers: { type: 'boolean', default: false },
      'peers-timeout': { type: 'string' },
      rounds: { type: 'string', default: '1' },
      'gen-runs': { type: 'string', default: '7' },
      profile: { type: 'string' },
      'drain-node-flags': { type: 'string' },
      backlog: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, v: string, min = 1) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be a whole number >= ${min}, found '${v}'.`);
    return x;
  };
  const list = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T[] => {
    if (!v) return [...allowed];
    const out = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const s of out) {
      if (!allowed.includes(s as T))
        throw new Error(`--${name}: unknown name '${s}'; expected some of ${allowed.join(', ')}.`);
    }
    return out as T[];
  };
  const timeoutS = int('timeout', values.timeout);
  return {
    n: int('n', values.n),
    concurrency: int('concurrency', values.concurrency),
    only: list('only', values.only, SYSTEM_KEYS),
    scenarios: values.scenarios ? list('scenarios', values.scenarios, SCENARIOS) : [...DEFAULT_SCENARIOS],
    json: values.json,
    batch: int('batch', values.batch),
    timeoutMs: timeoutS * 1000,
    latencySamples: int('latency-samples', values['latency-samples']),
    latencyGapMs: int('latency-gap-ms', values['latency-gap-ms'], 0),
    latencyWarmup: 5,
    latencyProbeTimeoutMs: 10_000,
    peers: values.peers,
    peersTimeoutS: values['peers-timeout'] ? int('peers-timeout', values['peers-timeout']) : timeoutS,
    rounds: int('rounds', values.rounds),
    genRuns: int('gen-runs', values['gen-runs'], 0),
    profileDir: values.profile ? path.resolve(values.profile) : undefined,
    drainNodeFlags: values['drain-node-flags']?.split(' ').filter(Boolean) ?? [],
    backlog: values.backlog?.split(',').map((size) => int('backlog', size.trim(), 0)),
  };
}

function gitDescribe(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'runtime'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (runtime/ has uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

const fmtSummary = (scenario: Scenario, r: Result) => {
  if (r.status === 'ok') {
    return scenario === 'latency' ? `${r.p50_ms}/${r.p95_ms}/${r.p99_ms} ms` : `${r.jobs_per_s} jobs/s`;
  }
  if (r.status === 'timeout') return `timeout (${r.done} done)`;
  return `${r.status}${r.error ? ` (${r.error})` : r.note ? ` (${r.note})` : ''}`;
};

/** Runs every chosen loco backend through every scenario once. */
async function runOurs(cli: Cli, settings: Record<string, unknown>): Promise<Results> {
  const results: Results = {};
  for (const key of cli.only) {
    const system = makeSystem(key, cli.concurrency);
    settings[system.name] = system.settings;
    results[system.name] = {};
    for (const scenario of cli.scenarios) {
      const t = now();
      process.stdout.write(`[${system.name}] ${scenario} ... `);
      const r = await runScenario(system, scenario, cli);
      results[system.name][scenario] = r;
      console.log(`${fmtSummary(scenario, r)}  [${round((now() - t) / 1000, 1)}s]`);
    }
  }
  return results;
}

function preparePeersOrReport(meta: Record<string, unknown>): string | undefined {
  try {
    return preparePeers(PEERS_DIR);
  } catch (err) {
    console.error(`the peers harness cannot run: ${messageOf(err)}`);
    meta.peers = { error: messageOf(err) };
    return undefined;
  }
}

async function runPeersOrReport(
  dir: string,
  cli: Cli,
  systems: string[],
  meta: Record<string, unknown>,
): Promise<PeersOutput | undefined> {
  try {
    const peers = await runPeers(dir, {
      n: cli.n,
      concurrency: cli.concurrency,
      batch: cli.batch,
      timeoutS: cli.peersTimeoutS,
      latencySamples: cli.latencySamples,
      latencyGapMs: cli.latencyGapMs,
      scenarios: cli.scenarios,
      systems,
    });
    meta.peers = peers.meta;
    return peers;
  } catch (err) {
    console.error(`\nthe peers harness could not run: ${messageOf(err)}`);
    meta.peers = { error: messageOf(err) };
    return undefined;
  }
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli();
  } catch (err) {
    console.error(messageOf(err));
    console.error(USAGE);
    return 2;
  }
  if (cli.profileDir) mkdirSync(cli.profileDir, { recursive: true });
  const meta: Record<string, unknown> = {
    started_at: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    mem_gb: round(os.totalmem() / 2 ** 30, 1),
    loco_commit: gitDescribe(),
    n: cli.n,
    concurrency: cli.concurrency,
    batch: cli.batch,
    timeout_s: cli.timeoutMs / 1000,
    latency_samples: cli.latencySamples,
    latency_warmup: cli.latencyWarmup,
    latency_gap_ms: cli.latencyGapMs,
    scenarios: cli.scenarios,
    rounds: cli.rounds,
    drain_node_flags: cli.drainNodeFlags,
    notes: [
      'enqueue/batch: BenchWorker.performLater / performLaterMany on an app booted with boot(App, { config }); each call awaited.',
      'drain: N jobs seeded untimed with performLaterMany; then a worker process of its own boots the app and calls ' +
        'booted.runWorkers({ tags: [], signal }) as loco start --worker does; timed from that call to the N-th handler call; ' +
        'store checked with backend.stats() 200 ms later.',
      'drain (async): BackgroundAsync has no store to pre-load from another process, so the worker process enqueues the N jobs ' +
        'with performLaterMany inside connectWorkers, before boot() starts the in-process pool; timed from the end of ' +
        'connectWorkers to the N-th handler call. Its store keeps only the last 1000 finished jobs, so the check shows at most 1000 completed.',
      'peak RSS: maxRSS (process.resourceUsage) of the drain worker process over its whole life: node, tsx, runtime, boot and the drain; ' +
        'rss_at_start_mb is its RSS when the drain timer starts.',
      'latency: producer and worker loop in one process (as in the peers harness); enqueue call to handler start.',
    ],
  };
  console.log(
    `loco-ts bench: node ${meta.node}, ${meta.cpus} CPUs, N=${cli.n}, C=${cli.concurrency}, batch=${cli.batch}, ` +
      `timeout=${cli.timeoutMs / 1000}s, loco ${meta.loco_commit}` +
      (cli.drainNodeFlags.length > 0 ? `, drain worker node flags: ${cli.drainNodeFlags.join(' ')}` : '') +
      '\n',
  );

  if (cli.backlog) return runBacklogOnly(cli, cli.backlog, meta);

  const settings: Record<string, unknown> = {};
  const ours = cli.only.map((key) => `loco-${key}`);
  const peerSystems = [...new Set(cli.only.flatMap((key) => PEERS_BY_STORE[key]))];
  const peersDir = cli.peers && peerSystems.length > 0 ? preparePeersOrReport(meta) : undefined;
  if (cli.peers && peerSystems.length === 0) console.log('--peers: no peer runs on the stores chosen with --only.');
  const rounds: Results[] = [];
  for (let round = 1; round <= cli.rounds; round++) {
    if (cli.rounds > 1) console.log(`\n-- round ${round} of ${cli.rounds}`);
    const results = await runOurs(cli, settings);
    if (peersDir) {
      const peers = await runPeersOrReport(peersDir, cli, peerSystems, meta);
      if (peers) {
        Object.assign(results, peers.results);
        Object.assign(settings, peers.settings);
      }
    }
    rounds.push(results);
  }
  const results = mergeRounds(rounds);

  let locoGen: LocoGenResult | undefined;
  if (cli.genRuns > 0) {
    process.stdout.write(`\n[loco-gen] ${cli.genRuns} runs ... `);
    locoGen = measureLocoGen(ROOT, cli.genRuns);
    console.log(locoGen.status === 'ok' ? `${locoGen.loco_gen_median_ms} ms` : locoGen.status);
    meta.loco_gen = locoGen;
  }

  console.log(
    `\nN=${cli.n}, C=${cli.concurrency}, batch=${cli.batch}` +
      (cli.scenarios.includes('latency')
        ? `; latency = enqueue call -> handler start, ${cli.latencySamples} probes, ${cli.latencyGapMs} ms apart`
        : '') +
      (peersDir && cli.peersTimeoutS * 1000 !== cli.timeoutMs ? `; peers' timeout ${cli.peersTimeoutS}s` : '') +
      (cli.rounds > 1 ? `; each figure the median of ${cli.rounds} rounds (ours and the peers' alternating)` : '') +
      '\n',
  );
  printTable(results, ours);
  const targets = checkTargets(results);
  printTargets(targets);
  meta.targets = targets;
  if (locoGen) printLocoGen(locoGen);

  if (cli.json) {
    const out = { meta: { ...meta, finished_at: new Date().toISOString() }, settings, results };
    writeFileSync(cli.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${cli.json}`);
  }
  const failed = ours.some((s) => Object.values(results[s]).some((r) => r.status === 'error'));
  return failed ? 1 : 0;
}

/** `--backlog`: the drain and latency of each store behind each backlog size, in one table. */
async function runBacklogOnly(cli: Cli, sizes: number[], meta: Record<string, unknown>): Promise<number> {
  const systems = cli.only.filter((key) => key !== 'async').map((key) => makeSystem(key, cli.concurrency));
  if (cli.only.includes('async')) console.log('--backlog: loco-async is left out (its jobs live in one process).');
  const rows = await runBacklog(systems, sizes, cli);
  printBacklog(rows);
  if (cli.json) {
    writeFileSync(
      cli.json,
      `${JSON.stringify({ meta: { ...meta, finished_at: new Date().toISOString() }, backlog: rows }, null, 2)}\n`,
    );
    console.log(`\nwrote ${cli.json}`);
  }
  return rows.some((row) => row.drain.status === 'error' || row.latency.status === 'error') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
