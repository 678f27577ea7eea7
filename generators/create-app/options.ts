import { parseArgs } from 'node:util';
import { argsErrorMessage, optionSpellings } from '../shared/cli-args.js';

/** The `--bg` choices, as Loco's `loco new` offers them. */
export const BACKGROUND_CHOICES = ['async', 'queue', 'blocking'] as const;
/** A `--bg` choice. */
export type Background = (typeof BACKGROUND_CHOICES)[number];

/** The `--queue` choices (for `--bg queue`). */
export const QUEUE_CHOICES = ['sqlite', 'postgres', 'redis'] as const;
/** A `--queue` choice. */
export type QueueChoice = (typeof QUEUE_CHOICES)[number];

/** `workers.mode` for each `--bg` choice. */
export const WORKER_MODE: Record<Background, string> = {
  async: 'BackgroundAsync',
  queue: 'BackgroundQueue',
  blocking: 'ForegroundBlocking',
};

/** Answers when neither a flag nor a question gives them. */
export const DEFAULTS = { name: 'my-loco-app', background: 'queue', queue: 'sqlite' } as const;

/** What the command line says. */
export interface CliOptions {
  /** The target folder, as typed. */
  dir?: string;
  name?: string;
  background?: Background;
  queue?: QueueChoice;
  /** Take the defaults for everything not given, ask nothing. */
  yes: boolean;
  install: boolean;
  git: boolean;
  /** Write into a non-empty folder. */
  overwrite: boolean;
  help: boolean;
}

/** A command line that cannot be followed; the message says why. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The `--help` text. */
export const USAGE = `Usage: create-loco-app [dir] [options]

Creates a loco-ts app in dir (default: a folder named after the app).

Options:
  --name <name>        The app's package name (default: from dir, else ${DEFAULTS.name})
  --bg <mode>          Background workers: async | queue | blocking (default: ${DEFAULTS.background})
                         async     BackgroundAsync: jobs run in the server process, not stored
                         queue     BackgroundQueue: jobs stored in a queue, run by worker processes
                         blocking  ForegroundBlocking: jobs run before performLater returns
  --queue <backend>    The queue for --bg queue: sqlite | postgres | redis (default: ${DEFAULTS.queue})
  -y, --yes            Ask nothing; take the defaults for what the options do not give
  --no-install         Do not run npm install
  --no-git             Do not create a git repository
  --overwrite          Write into a folder that is not empty (files of the same name are replaced)
  -h, --help           Show this help

Questions are asked only when stdin is a terminal and --yes is not given.`;

const OPTIONS = {
  name: { type: 'string' },
  bg: { type: 'string' },
  queue: { type: 'string' },
  yes: { type: 'boolean', short: 'y', default: false },
  'no-install': { type: 'boolean', default: false },
  'no-git': { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseOptions(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

/** Reads the command line (without `node` and the script). */
export function parseCli(argv: string[]): CliOptions {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError(argsErrorMessage(error, optionSpellings(OPTIONS)), { cause: error });
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(`Give one target folder; found ${positionals.length}: ${positionals.join(', ')}.`);
  }
  const background = oneOf('--bg', values.bg, BACKGROUND_CHOICES);
  const queue = oneOf('--queue', values.queue, QUEUE_CHOICES);
  if (queue && background && background !== 'queue') {
    throw new UsageError(`--queue ${queue} needs --bg queue; --bg ${background} keeps no queue.`);
  }
  if (values.name !== undefined) {
    const problem = packageNameProblem(values.name);
    if (problem) throw new UsageError(`--name ${JSON.stringify(values.name)}: ${problem}`);
  }
  return {
    dir: positionals[0],
    name: values.name,
    // `--queue redis` alone means a queue app.
    background: background ?? (queue ? 'queue' : undefined),
    queue,
    yes: values.yes,
    install: !values['no-install'],
    git: !values['no-git'],
    overwrite: values.overwrite,
    help: values.help,
  };
}

function oneOf<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (choices.includes(value as T)) return value as T;
  throw new UsageError(`${flag} ${JSON.stringify(value)}: expected one of ${choices.join(', ')}.`);
}

/**
 * Why `name` cannot be the app's package name, or undefined when it can. Unscoped npm names
 * only: lower case, digits, `-`, `_` and `.`, starting with a letter or digit.
 */
export function packageNameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty.';
  if (name.length > 214) return 'npm package names are at most 214 characters long.';
  if (!/^[a-z0-9]/.test(name)) return 'start the name with a lower-case letter or a digit.';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    return 'use lower-case letters, digits, "-", "_" and "." only, as in my-app.';
  }
  return undefined;
}

/** The nearest valid package name: `My App!` -> `my-app`; undefined when nothing is left. */
export function toPackageName(text: string): string | undefined {
  const name = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return name === '' ? undefined : name.slice(0, 214);
}

/** A name usable in database names: `my-app.v2` -> `my_app_v2`. */
export function toSnakeName(name: string): string {
  return name.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}
