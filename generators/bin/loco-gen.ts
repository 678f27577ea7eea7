#!/usr/bin/env node
import { parseArgs } from 'node:util';
import pc from 'picocolors';
import { argsErrorMessage, optionSpellings } from '../shared/cli-args.js';

/** Options every generator takes. */
interface GeneratorOptions {
  force: boolean;
  dryRun: boolean;
}

/**
 * The generators, each loaded only when it runs: a generator pulls in TypeScript's parser and
 * Handlebars, which `--help` and a mistyped command have no use for.
 */
const GENERATORS: Record<string, (name: string, options: GeneratorOptions) => Promise<number>> = {
  worker: async (name, options) => (await import('../worker/index.js')).generateWorker(name, options),
};

/** The options every generator takes. */
const OPTIONS = {
  force: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const USAGE = `Usage: loco-gen worker <name> [--force] [--dry-run]

Generators, run in the root folder of a loco app:
  worker <name>   Writes src/workers/<name>.ts and tests/workers/<name>.test.ts and registers
                  the worker in src/app.ts (connectWorkers). report_worker -> ReportWorkerWorker.

Options:
  --force         Overwrite the worker and test files when they exist
  --dry-run       Print what would change, write nothing
  -h, --help      Show this help`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (error) {
    console.error(`${pc.red(argsErrorMessage(error, optionSpellings(OPTIONS)))}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [generator, name, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const run = generator === undefined ? undefined : GENERATORS[generator];
  if (run === undefined || name === undefined || extra.length > 0) {
    const problem =
      generator === undefined
        ? 'Which generator? The one there is: worker.'
        : run === undefined
          ? `Unknown generator '${generator}'; the one there is: worker.`
          : name === undefined
            ? 'loco-gen worker needs the name of the worker, such as report_worker.'
            : `Unexpected arguments: ${extra.join(' ')}. Give one worker name.`;
    console.error(`${pc.red(problem)}\n\n${USAGE}`);
    return 1;
  }
  return run(name, { force: values.force, dryRun: values['dry-run'] });
}

function parseCli(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
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
