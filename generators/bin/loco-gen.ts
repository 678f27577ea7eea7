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
 * The generators, each imported only when it runs; `--help` and a mistyped command load nothing
 * more than this file. A generator loads ts-morph in turn only when it gets to `src/app.ts`, and
 * its templates only when it has files to write.
 */
const GENERATORS: Record<
  string,
  {
    /** A name to show in messages; `undefined` for a generator that takes no name. */
    example: string | undefined;
    run: (name: string | undefined, options: GeneratorOptions) => Promise<number>;
  }
> = {
  worker: {
    example: 'report_worker',
    run: async (name, options) => (await import('../worker/index.js')).generateWorker(name!, options),
  },
  task: {
    example: 'send_report',
    run: async (name, options) => (await import('../task/index.js')).generateTask(name!, options),
  },
  scheduler: {
    example: undefined,
    run: async (_name, options) => (await import('../scheduler/index.js')).generateScheduler(options),
  },
};

/** The options every generator takes. */
const OPTIONS = {
  force: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const USAGE = `Usage: loco-gen <generator> [name] [--force] [--dry-run]

Generators, run in the root folder of a loco app:
  worker <name>   Writes src/workers/<name>.ts and tests/workers/<name>.test.ts and registers
                  the worker in src/app.ts (connectWorkers). report_worker -> ReportWorkerWorker.
  task <name>     Writes src/tasks/<name>.ts and tests/tasks/<name>.test.ts and registers the
                  task in src/app.ts (registerTasks). send_report -> SendReportTask, run by
                  npx loco task send_report.
  scheduler       Writes a commented config/scheduler.yaml (every key, the schedule forms),
                  run by npx loco scheduler --config config/scheduler.yaml.

Names: letters, digits and underscores, starting with a letter, at most 64 characters.
Nothing is written unless everything can be: a run that is refused leaves the app as it was.

Options:
  --force         Overwrite the generated files when they exist (src/app.ts is only added to)
  --dry-run       Run every check and print what would change, write nothing
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
  const known = Object.keys(GENERATORS).join(', ');
  const chosen = generator === undefined ? undefined : GENERATORS[generator];
  const wantsName = chosen?.example !== undefined;
  const unexpected = wantsName ? extra : positionals.slice(1);
  if (chosen === undefined || (wantsName && name === undefined) || unexpected.length > 0) {
    const problem =
      generator === undefined
        ? `Which generator? The generators are: ${known}.`
        : chosen === undefined
          ? `Unknown generator '${generator}'; the generators are: ${known}.`
          : wantsName && name === undefined
            ? `loco-gen ${generator} needs the name of the ${generator}, such as ${chosen.example}.`
            : wantsName
              ? `Unexpected arguments: ${unexpected.join(' ')}. Give one ${generator} name.`
              : `Unexpected arguments: ${unexpected.join(' ')}. loco-gen ${generator} takes no name.`;
    console.error(`${pc.red(problem)}\n\n${USAGE}`);
    return 1;
  }
  return chosen.run(wantsName ? name : undefined, { force: values.force, dryRun: values['dry-run'] });
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
