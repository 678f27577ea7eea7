/**
 * Times `loco-gen worker report_worker` in a freshly scaffolded app against a bare `node -e 0`:
 * the generator's start-up and work on top of Node's own start-up.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, now, round } from './common.js';

export interface LocoGenResult {
  status: 'ok' | 'n/a' | 'error';
  note?: string;
  runs?: number;
  loco_gen_median_ms?: number;
  node_median_ms?: number;
  /** loco-gen's median minus node's: what the generator adds. */
  overhead_ms?: number;
  loco_gen_ms?: number[];
  node_ms?: number[];
}

/** Runs a command; returns its wall time in ms, or throws with its output on failure. */
function timed(args: string[], cwd: string): number {
  const t0 = now();
  const res = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = now() - t0;
  if (res.status !== 0) {
    throw new Error(
      `node ${args.join(' ')} (in ${cwd}) failed with ${res.status ?? res.signal}: ${(res.stderr || res.stdout).trim().slice(0, 400)}`,
    );
  }
  return ms;
}

export function measureLocoGen(repoRoot: string, runs: number): LocoGenResult {
  const bin = path.join(repoRoot, 'dist/generators/bin');
  const gen = path.join(bin, 'loco-gen.js');
  const create = path.join(bin, 'create-loco-app.js');
  if (!existsSync(gen) || !existsSync(create)) {
    return {
      status: 'n/a',
      note: `${path.relative(repoRoot, bin)}/{loco-gen,create-loco-app}.js not built (npm run build builds them)`,
    };
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'loco-bench-gen-'));
  try {
    const scaffold = path.join(work, 'scaffold');
    timed([create, scaffold, '--yes', '--no-install', '--no-git'], work);
    const genMs: number[] = [];
    const nodeMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate the two so that both see the same machine load.
      const app = path.join(work, `run-${i}`);
      cpSync(scaffold, app, { recursive: true });
      genMs.push(timed([gen, 'worker', 'report_worker'], app));
      if (!existsSync(path.join(app, 'src/workers/report_worker.ts'))) {
        throw new Error(`loco-gen worker report_worker exited 0 but wrote no src/workers/report_worker.ts in ${app}`);
      }
      nodeMs.push(timed(['-e', '0'], app));
    }
    const g = median(genMs)!;
    const n = median(nodeMs)!;
    return {
      status: 'ok',
      runs,
      loco_gen_median_ms: round(g, 1),
      node_median_ms: round(n, 1),
      overhead_ms: round(g - n, 1),
      loco_gen_ms: genMs.map((x) => round(x, 1)),
      node_ms: nodeMs.map((x) => round(x, 1)),
    };
  } catch (err) {
    return { status: 'error', note: err instanceof Error ? err.message : String(err) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
