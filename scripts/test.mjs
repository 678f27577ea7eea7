#!/usr/bin/env node
// Runs every test/**/*.test.ts with uvu (TypeScript through tsx) and ends with the line
// "N passed, N failed" that CI reads. `npm test -- sqlite` runs only files whose path matches.
//
// The files run in two lanes at once, one uvu process each, as the machine has two cores or more
// (`TEST_LANES=1` runs them all in one process, one after the other):
// - `stores`: the stores, the CLI, the sandbox, the dashboard and the scheduler's processes, whose
//   tests time wake-ups, leases and rate windows; it runs at normal priority and prints as it goes;
// - `builds`: the rest (generators, which build, pack and `npm install` apps; config, scheduler
//   rules, logger, ...), at a lower priority (`nice`), printed when it ends.
// No two lanes share a store: every test names its schemas, key prefixes and files after its
// process id or a temp folder, and servers a test starts get ports of their own (test/ports.ts).
// The two tests that pack the packages into dist/ (generators/e2e and generators/registry) are in
// the same lane, so they never run at once.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const require = createRequire(import.meta.url);
const uvu = path.join(path.dirname(require.resolve('uvu')), '..', 'bin.js');
const filter = process.argv[2];
const files = `(?=.*${filter ? `${filter}.*` : ''}\\.test\\.ts$)`;
const STORES = '(?:queue|cli|sandbox|admin)/|scheduler/multi-process\\.';

const lanes =
  process.env.TEST_LANES === '1' || availableParallelism() < 2
    ? [{ name: 'all', pattern: `^${files}`, live: true }]
    : [
        { name: 'stores', pattern: `^${files}(?:${STORES})`, live: true },
        { name: 'builds', pattern: `^${files}(?!${STORES})`, live: false, nice: 10 },
      ];

/** Runs one lane's files in one uvu process; resolves with its output and exit code. */
function runLane(lane) {
  const started = Date.now();
  const args = ['--import', 'tsx', uvu, 'test', lane.pattern, '-i', 'fixtures'];
  const [command, argv] = lane.nice
    ? ['nice', ['-n', String(lane.nice), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
  });
  let output = '';
  /** When each test file began, from uvu's file headers as they arrive: the slowest files are named at the end. */
  const files = [];
  const collect = (stream, write) =>
    stream.on('data', (chunk) => {
      output += chunk;
      for (const [, file] of stripVTControlCharacters(String(chunk)).matchAll(/^(\S+\.test\.ts)$/gm)) {
        files.push({ file, at: Date.now() });
      }
      if (lane.live) write(chunk);
    });
  collect(child.stdout, (chunk) => process.stdout.write(chunk));
  collect(child.stderr, (chunk) => process.stderr.write(chunk));
  return new Promise((resolve) => {
    child.on('close', (code, signal) =>
      resolve({
        lane,
        output,
        code: code ?? (signal ? 1 : 0),
        seconds: (Date.now() - started) / 1000,
        files: files.map(({ file, at }, i) => ({ file, seconds: ((files[i + 1]?.at ?? Date.now()) - at) / 1000 })),
      }),
    );
  });
}

/** Passed, failed and skipped tests of a lane, from uvu's summary. */
function count({ output, code }) {
  const plain = stripVTControlCharacters(output);
  const number = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
  const total = number('Total');
  const passed = number('Passed');
  const skipped = number('Skipped');
  // A hook that throws or a crashed process may leave uvu's totals short: count it as a failure.
  return { passed, skipped, failed: Math.max(total - passed - skipped, code === 0 ? 0 : 1) };
}

/**
 * What uvu printed of each failed test in a lane (its FAIL line and the lines after it), or the
 * end of the output of a lane that failed without one (a crash, a hook that threw). Printed again
 * at the very end, so that the last lines of a run say what failed.
 */
function failures({ output, code }) {
  const lines = stripVTControlCharacters(output).split('\n');
  const reports = [];
  let file = '';
  lines.forEach((line, at) => {
    if (/\.test\.ts$/.test(line)) file = line.trim();
    if (!/^\s*FAIL\s/.test(line)) return;
    const end = lines.findIndex((next, after) => after > at && /^\s*(FAIL\s|Total:)/.test(next));
    reports.push([file, ...lines.slice(at, Math.min(at + 25, end === -1 ? lines.length : end))].join('\n').trimEnd());
  });
  if (reports.length === 0 && code !== 0) reports.push(lines.slice(-40).join('\n'));
  return reports;
}

const results = await Promise.all(
  lanes.map((lane) =>
    runLane(lane).then((result) => {
      if (!lane.live) {
        process.stdout.write(`\n==== lane ${lane.name} ====\n${result.output}`);
      }
      return result;
    }),
  ),
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const result of results) {
  const lane = count(result);
  passed += lane.passed;
  failed += lane.failed;
  skipped += lane.skipped;
  if (lanes.length > 1) {
    const slowest = [...result.files].sort((x, y) => y.seconds - x.seconds).slice(0, 6);
    console.log(
      `lane ${result.lane.name}: ${lane.passed} passed, ${lane.failed} failed in ${result.seconds.toFixed(0)} s` +
        (slowest.length > 0
          ? ` (slowest: ${slowest.map(({ file, seconds }) => `${file} ${seconds.toFixed(0)} s`).join(', ')})`
          : ''),
    );
  }
}
for (const result of results) {
  for (const report of failures(result)) console.log(`\n==== failed in lane ${result.lane.name} ====\n${report}`);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
