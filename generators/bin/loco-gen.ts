#!/usr/bin/env node
import { parseArgs } from 'node:util';
import pc from 'picocolors';
import { generateWorker } from '../worker/index.js';

const USAGE = `Usage: loco-gen worker <name> [--force] [--dry-run]

Generators, run in the root folder of a loco app:
  worker <name>   Writes src/workers/<name>.ts and tests/workers/<name>.test.ts and registers
                  the worker in src/app.ts (connectWorkers). report_worker -> ReportWorkerWorker.

Options:
  --force         Overwrite the worker and test files when they exist
  --dry-run       Print what would change, write nothing
  -h, --help      Show this help`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        force: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`${pc.red((error as Error).message)}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [generator, name, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (generator !== 'worker' || name === undefined || extra.length > 0) {
    const problem =
      generator === undefined
        ? 'Which generator? The one there is: worker.'
        : generator !== 'worker'
          ? `Unknown generator '${generator}'; the one there is: worker.`
          : name === undefined
            ? 'loco-gen worker needs the name of the worker, such as report_worker.'
            : `Unexpected arguments: ${extra.join(' ')}. Give one worker name.`;
    console.error(`${pc.red(problem)}\n\n${USAGE}`);
    return 1;
  }
  return generateWorker(name, { force: values.force, dryRun: values['dry-run'] });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(pc.red(error instanceof Error ? error.message : String(error)));
    process.exitCode = 1;
  },
);
