/**
 * Worker processes of the fixture app, started as a user starts them (`loco start --worker`),
 * SIGKILLed and started again by the drills. Each keeps its output in a log file and says
 * whether it exited on its own (which a store outage must never cause) or hung on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './common.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE = path.join(ROOT, 'chaos/fixture');
const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

/** Every worker process running now, so that an interrupted drill leaves none behind. */
const live = new Set<ChildProcess>();
/** Set once the drill is interrupted: a drill still running must not start new processes. */
let closed = false;

/** SIGKILLs every worker process the drill started that still runs, and refuses new ones. */
export function killAllWorkers(): void {
  closed = true;
  for (const child of live) child.kill('SIGKILL');
}

/** What every worker process of a drill is given. */
export interface WorkerEnv {
  kind: 'Sqlite' | 'Postgres' | 'Redis';
  uri: string;
  /** Where the fixture's worker records its runs. */
  runsDir: string;
  /** The drill's log folder: one file per worker slot. */
  logDir: string;
  /** Jobs one process runs at once (`queue.num_workers`). */
  numWorkers: number;
}

/** One worker slot: a `loco start --worker` process, replaced each time it is killed. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  private readyAt = 0;
  private killing = false;
  /** Exits nobody asked for, as `pid: code/signal`. */
  readonly unexpectedExits: string[] = [];
  /** Processes that did not exit within the grace time after SIGTERM. */
  hung = 0;
  /** Processes started in this slot so far. */
  starts = 0;
  private readonly log: string;

  constructor(
    private readonly env: WorkerEnv,
    readonly slot: number,
  ) {
    this.log = path.join(env.logDir, `worker-${slot}.log`);
  }

  /** Starts a new process in this slot; it is `ready` once it logs that its worker started. */
  start(): void {
    if (closed) return;
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'start', '--worker', '-e', 'chaos'], {
      cwd: FIXTURE,
      env: {
        ...process.env,
        NO_COLOR: '1',
        LOCO_DEBUG: '',
        CHAOS_QUEUE_KIND: this.env.kind,
        CHAOS_QUEUE_URI: this.env.uri,
        CHAOS_RUNS_DIR: this.env.runsDir,
        CHAOS_NUM_WORKERS: String(this.env.numWorkers),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.readyAt = 0;
    this.killing = false;
    this.starts += 1;
    appendFileSync(this.log, `--- ${new Date().toISOString()} started pid ${child.pid}\n`);
    let partial = '';
    const onData = (chunk: Buffer) => {
      appendFileSync(this.log, chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      if (this.readyAt === 0 && lines.some((line) => line.includes('worker started'))) this.readyAt = Date.now();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      live.delete(child);
      appendFileSync(this.log, `--- ${new Date().toISOString()} pid ${child.pid} exited: ${signal ?? code}\n`);
      if (!this.killing) this.unexpectedExits.push(`pid ${child.pid}: ${signal ?? `exit code ${code}`}`);
      if (this.child === child) this.child = undefined;
    });
  }

  /** Whether the process runs and has started its worker loop. */
  get ready(): boolean {
    return this.child !== undefined && this.readyAt > 0;
  }

  /** Milliseconds since the process started its worker loop (0 when not ready). */
  get upMs(): number {
    return this.ready ? Date.now() - this.readyAt : 0;
  }

  /** SIGKILL, as the OOM killer or a pulled plug would; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.killing = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * SIGTERM, the graceful stop: running jobs finish and the process exits. One still there after
   * `graceMs` counts as hung and is SIGKILLed.
   */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.killing = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (done) return;
    this.hung += 1;
    appendFileSync(this.log, `--- pid ${child.pid} still running ${graceMs} ms after SIGTERM: SIGKILL\n`);
    child.kill('SIGKILL');
    await exited;
  }
}

/** Starts `count` worker slots. */
export function startWorkers(env: WorkerEnv, count: number): WorkerProcess[] {
  return Array.from({ length: count }, (_, slot) => {
    const worker = new WorkerProcess(env, slot);
    worker.start();
    return worker;
  });
}
