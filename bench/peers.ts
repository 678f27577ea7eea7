/**
 * Runs the peers harness (../shared/bench/peers, beside this repository) with the same settings
 * and reads its JSON. Its dependencies are installed first where `node_modules` is missing; a
 * folder without write permission is copied to the OS temp dir and installed there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Result } from './scenarios.js';
import type { SystemKey } from './systems.js';

/** The peers' JSON: `meta`, `settings`, `results[system][scenario]`. */
export interface PeersOutput {
  meta: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: Record<string, Record<string, Result>>;
}

/** The peer systems that run on each of our stores. */
export const PEERS_BY_STORE: Record<SystemKey, string[]> = {
  sqlite: ['sqlite-raw'],
  postgres: ['graphile-worker', 'pgboss-batch', 'pg-raw', 'pgboss'],
  redis: ['bullmq', 'redis-raw'],
  async: [],
};

export interface PeersOptions {
  n: number;
  concurrency: number;
  batch: number;
  timeoutS: number;
  latencySamples: number;
  latencyGapMs: number;
  scenarios: string[];
  systems: string[];
}

function writable(dir: string): boolean {
  // root passes access() checks whatever the mode bits say, so read the bits as well.
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return false;
  }
  return (statSync(dir).mode & 0o222) !== 0;
}

/** Copies `from` into `to` as fresh, writable files, leaving out installed modules and old results. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'results') continue;
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, path.join(to, entry.name));
    else if (entry.isFile()) writeFileSync(path.join(to, entry.name), readFileSync(source));
  }
}

function npmInstall(dir: string): void {
  console.log(`installing the peers' dependencies in ${dir} (npm install; builds better-sqlite3, about a minute) ...`);
  const res = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`npm install in ${dir} failed (exit ${res.status ?? res.signal}).`);
}

/** The folder to run the harness from, with its dependencies installed. */
export function preparePeers(source: string): string {
  if (!existsSync(path.join(source, 'run.mjs'))) {
    throw new Error(
      `The peers harness is not at ${source} (expected run.mjs there, beside this repository in ../shared/bench/peers).`,
    );
  }
  if (existsSync(path.join(source, 'node_modules'))) return source;
  if (writable(source)) {
    npmInstall(source);
    return source;
  }
  const lock = readFileSync(path.join(source, 'package-lock.json'));
  const stamp = createHash('sha256').update(lock).digest('hex');
  const dir = path.join(os.tmpdir(), 'loco-bench-peers');
  const stampFile = path.join(dir, 'node_modules', '.loco-bench-lock-sha256');
  copyTree(source, dir);
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    npmInstall(dir);
    writeFileSync(stampFile, stamp);
  }
  return dir;
}

/** Runs `node run.mjs` with the given settings (its output shown as it goes) and returns its JSON. */
export async function runPeers(dir: string, opts: PeersOptions): Promise<PeersOutput> {
  const json = path.join(os.tmpdir(), `loco-bench-peers-${process.pid}.json`);
  const args = [
    'run.mjs',
    '--n',
    String(opts.n),
    '--concurrency',
    String(opts.concurrency),
    '--batch',
    String(opts.batch),
    '--timeout',
    String(opts.timeoutS),
    '--latency-samples',
    String(opts.latencySamples),
    '--latency-gap-ms',
    String(opts.latencyGapMs),
    '--scenarios',
    opts.scenarios.join(','),
    '--only',
    opts.systems.join(','),
    '--json',
    json,
  ];
  console.log(`\n$ (cd ${dir} && node ${args.join(' ')})`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    // Show the harness's header and progress lines; its own table is folded into ours.
    let shown = true;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/^N=\d/.test(line)) shown = false;
      if (shown) console.log(line);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve(status));
  });
  if (!existsSync(json)) throw new Error(`the peers harness exited with code ${code} and wrote no JSON.`);
  try {
    return JSON.parse(readFileSync(json, 'utf8')) as PeersOutput;
  } finally {
    rmSync(json, { force: true });
  }
}
