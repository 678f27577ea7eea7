// A fixture app run by `loco start` as a real child process, on a free port, stopped by its PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../cli/helpers.js';

const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

/** Where the browser tests find Chromium (Debian's `chromium` package). */
export const CHROMIUM = process.env.LOCO_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Chromium's flags for a headless run in a container, with no calls out. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Throws, saying how to install it, when Chromium is not where the tests look. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The dashboard's browser tests need Chromium at ${CHROMIUM}, and it is not there. Install Debian's package ` +
        '(apt-get install -y chromium; .ci/run does this), or point LOCO_TEST_CHROMIUM at a Chromium binary.',
    );
  }
  return CHROMIUM;
}

/** A running `loco start`. */
export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then waits for it to exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** Starts `loco start <args>` in `root` with `env`, on a free port of 127.0.0.1; resolves once it listens. */
export async function startApp(
  root: string,
  env: Record<string, string>,
  args: string[] = ['--server-and-worker'],
): Promise<RunningApp> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, CLI, 'start', ...args, '-p', '0', '-b', '127.0.0.1', '-e', 'test'],
    { cwd: root, env: { ...process.env, LOCO_DEBUG: '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loco start did not listen within 60 s; output:\n${output}`));
    }, 60_000);
    const look = () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`loco start exited with ${code} before listening; output:\n${output}`));
    });
  });
  return { url, output: () => output, stop: () => stopChild(child) };
}

/** Runs `loco start <args>` expecting it to exit; resolves with its code and output. */
export function runStart(
  root: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, CLI, 'start', ...args, '-p', '0', '-b', '127.0.0.1', '-e', 'test'],
    {
      cwd: root,
      env: { ...process.env, LOCO_DEBUG: '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
