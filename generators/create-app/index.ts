import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import prompts from 'prompts';
import { folderProblem, shownPath, writeProblem } from '../shared/files.js';
import { packageRoot, templatesDir } from '../shared/paths.js';
import { run } from '../shared/run.js';
import { listTemplates, renderTemplates } from '../shared/templates.js';
import {
  type Background,
  DEFAULTS,
  packageNameProblem,
  parseCli,
  QUEUE_CHOICES,
  type QueueChoice,
  toPackageName,
  toSnakeName,
  USAGE,
  UsageError,
  WORKER_MODE,
} from './options.js';
import { type AppPackages, appPackages, packVendor, type VendorPackage } from './vendor.js';

/** What `init` uses from the outside world; tests replace parts of it. */
export interface InitEnvironment {
  /** The folder `dir` is relative to. (Default: process.cwd()) */
  cwd: string;
  /** Whether questions may be asked. (Default: stdin is a TTY) */
  interactive: boolean;
  /** Prints a line of progress. (Default: console.log) */
  log: (line: string) => void;
  /** Prints a line of an error. (Default: console.error) */
  error: (line: string) => void;
  /** Asks questions. (Default: prompts) */
  prompt: typeof prompts;
  /** From a checkout, packs the runtime and the generators into `<app>/vendor`. (Default: `scripts/packages.mjs pack`) */
  pack: (packages: VendorPackage[], vendorDir: string) => Promise<void>;
  /** The checkout or package the templates (and, from a checkout, the packages) come from. (Default: the one this file is in) */
  root: string;
}

/** The user pressed Ctrl-C during a question. */
class Cancelled extends Error {}

/**
 * `create-loco-app [dir]`: asks what flags do not say, writes the app from `templates/app`,
 * from a checkout bundles the runtime and the generators into `vendor/` (from the registry the app
 * names them by version), installs, commits, and prints the next
 * steps. Returns the exit code.
 */
export async function init(argv: string[], environment: Partial<InitEnvironment> = {}): Promise<number> {
  const env: InitEnvironment = {
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY),
    log: (line) => console.log(line),
    error: (line) => console.error(line),
    prompt: prompts,
    pack: packVendor,
    ...environment,
    root: environment.root ?? packageRoot(),
  };
  const { log, error } = env;
  try {
    // 1. Read the command line.
    const cli = parseCli(argv);
    if (cli.help) {
      log(USAGE);
      return 0;
    }
    const interactive = env.interactive && !cli.yes;
    const ask = async <T>(question: prompts.PromptObject): Promise<T> => {
      let cancelled = false;
      const answers = await env.prompt(question, {
        onCancel: () => {
          cancelled = true;
          return false;
        },
      });
      if (cancelled) throw new Cancelled();
      return answers[question.name as string] as T;
    };

    // 2. The app's name, and the folder it goes to.
    const fromDir = cli.dir === undefined ? undefined : toPackageName(path.basename(path.resolve(env.cwd, cli.dir)));
    let name = cli.name ?? fromDir ?? DEFAULTS.name;
    if (interactive && cli.name === undefined) {
      name = await ask<string>({
        type: 'text',
        name: 'name',
        message: 'App name (npm package name):',
        initial: name,
        validate: (value: string) => packageNameProblem(value.trim()) ?? true,
        format: (value: string) => value.trim(),
      });
    }
    const target = path.resolve(env.cwd, cli.dir ?? name);
    const relative = path.relative(env.cwd, target);
    const shown = relative === '' ? '.' : relative.startsWith('..') ? target : relative;

    // 3. Refuse a target that cannot hold the app (a file, a folder that cannot be written, ...),
    //    and a folder with files in it unless told to write over them.
    const folderProblemFound = folderProblem(env.cwd, target);
    if (folderProblemFound) {
      error(
        pc.red(
          `Cannot create the app in ${shown}: ${folderProblemFound} Give the path of a new or empty folder you can write to.`,
        ),
      );
      return 1;
    }
    const templates = listTemplates(templatesDir('app', env.root));
    const present = existsSync(target) ? readdirSync(target) : [];
    if (present.length > 0 && !cli.overwrite) {
      error(pc.red(`The folder ${shown} is not empty. It holds: ${listing(target, present)}.`));
      error('Pick a new or empty folder, or pass --overwrite to write into it (files of the same name are replaced).');
      return 1;
    }
    for (const file of present.length > 0 ? templates : []) {
      const problem = writeProblem(target, file.target);
      if (problem) {
        const where = shownPath(env.cwd, path.join(target, file.target));
        error(
          pc.red(
            `Cannot create the app in ${shown}: cannot write ${where}: ${problem} ` +
              'Move it away, or give the path of a new or empty folder.',
          ),
        );
        return 1;
      }
    }

    // 4. Background workers: mode, and the queue for BackgroundQueue.
    let background: Background = cli.background ?? DEFAULTS.background;
    if (interactive && cli.background === undefined) {
      background = await ask<Background>({
        type: 'select',
        name: 'background',
        message: 'Background workers:',
        choices: [
          { title: 'queue    BackgroundQueue: jobs stored in a queue, run by worker processes', value: 'queue' },
          { title: 'async    BackgroundAsync: jobs run in the server process, not stored', value: 'async' },
          { title: 'blocking ForegroundBlocking: jobs run before performLater returns', value: 'blocking' },
        ],
        initial: 0,
      });
    }
    let queue: QueueChoice | undefined;
    if (background === 'queue') {
      queue = cli.queue ?? DEFAULTS.queue;
      if (interactive && cli.queue === undefined) {
        queue = await ask<QueueChoice>({
          type: 'select',
          name: 'queue',
          message: 'Queue backend:',
          choices: QUEUE_CHOICES.map((choice) => ({ title: choice, value: choice })),
          initial: 0,
        });
      }
    }

    // 5. Write the app.
    const packages = appPackages(env.root);
    const data = templateData(name, background, queue, packages);
    log(`\nCreating ${pc.bold(name)} in ${target} (${WORKER_MODE[background]}${queue ? `, ${queue}` : ''})`);
    await renderTemplates(templates, data, {
      destination: target,
      force: cli.overwrite,
    });

    // 6. From a checkout, bundle the runtime and the generators, which the registry may not have
    //    (or not in this version); from the registry, the app names them by version.
    if (packages.vendor) {
      const { runtime, generators } = packages.vendor;
      log(`Packing ${runtime.name} and ${generators.name} into ${path.join(shown, 'vendor')}`);
      await env.pack([runtime, generators], path.join(target, 'vendor'));
    }

    // 7. Install.
    if (cli.install) {
      log('Installing dependencies (npm install)');
      const installed = await run('npm', ['install'], { cwd: target, stdio: 'inherit' });
      if (installed.code !== 0) {
        error(
          pc.red(
            `npm install failed (exit code ${installed.code}). Fix the cause above, then run npm install in ${shown}.`,
          ),
        );
        return 1;
      }
    }

    // 8. A git repository with a first commit.
    if (cli.git) log(await initGit(target));

    // 9. Next steps.
    log(nextSteps(shown, background, queue, cli.install, data.dbName));
    return 0;
  } catch (caught) {
    if (caught instanceof Cancelled) {
      error(pc.red('Cancelled; nothing was written.'));
      return 1;
    }
    if (caught instanceof UsageError) {
      error(`${pc.red(caught.message)}\n\n${USAGE}`);
      return 1;
    }
    throw caught;
  }
}

/** The values the templates use. */
export function templateData(
  name: string,
  background: Background,
  queue: QueueChoice | undefined,
  packages: AppPackages,
) {
  return {
    name,
    dbName: toSnakeName(name),
    // The development config's default admin token: a secret of this app's own, not one shared by every app.
    adminToken: randomBytes(24).toString('base64url'),
    background,
    backgroundIs: { [background]: true },
    mode: WORKER_MODE[background],
    queue: queue ? { [queue]: true, kind: queue } : undefined,
    packages: { runtime: packages.runtime, generators: packages.generators },
    vendored: packages.vendor !== undefined,
    versions: packages.versions,
  };
}

/** `a.txt, src/, ...` with at most 10 entries named. */
function listing(folder: string, entries: string[]): string {
  const named = [...entries]
    .sort()
    .slice(0, 10)
    .map((entry) => (isDirectory(path.join(folder, entry)) ? `${entry}/` : entry));
  return entries.length > 10 ? `${named.join(', ')} and ${entries.length - 10} more` : named.join(', ');
}

function isDirectory(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** `git init` and a first commit; says what it did, or why it did not. */
async function initGit(target: string): Promise<string> {
  const inside = await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: target, stdio: 'capture' });
  if (inside.code === 0 && inside.output.trim() === 'true') {
    return pc.yellow('The app is inside a git repository already: no new repository created.');
  }
  for (const args of [
    ['init', '-q'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'Initial commit from create-loco-app'],
  ]) {
    const result = await run('git', args, { cwd: target, stdio: 'capture' });
    if (result.code !== 0) {
      return pc.yellow(
        `git ${args[0]} failed (exit code ${result.code}), so the app has no first commit:\n${result.output.trim()}`,
      );
    }
  }
  return 'Created a git repository with a first commit.';
}

/** What to type next, for the mode chosen. */
export function nextSteps(
  shown: string,
  background: Background,
  queue: QueueChoice | undefined,
  installed: boolean,
  dbName: string,
): string {
  const lines = ['', pc.green('Done. Next:'), ''];
  if (shown !== '.') lines.push(`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
  if (!installed) lines.push('  npm install');
  if (queue === 'postgres')
    lines.push(`  createdb -h 127.0.0.1 -U postgres ${dbName}_development   # the queue's database`);
  if (queue === 'redis') lines.push('  # the queue needs Redis on 127.0.0.1 (or set REDIS_URL)');
  if (background === 'queue') {
    lines.push(
      '  npm start          # the HTTP server on http://localhost:5150',
      '  npm run worker     # in another terminal: runs the queued jobs',
    );
  } else if (background === 'async') {
    lines.push('  npm run dev        # the HTTP server on http://localhost:5150; jobs run in this process');
  } else {
    lines.push('  npm start          # the HTTP server on http://localhost:5150; jobs run before performLater returns');
  }
  lines.push(
    `  curl -X POST localhost:5150/downloads -H 'content-type: application/json' -d '{"userGuid": "foo"}'`,
    ...(background === 'blocking'
      ? []
      : [
          '  open http://localhost:5150/_admin/jobs   # the jobs dashboard; its token is admin.token in config/development.yaml',
        ]),
    '  npm test',
    '  npx loco-gen worker report_worker',
    '  npx loco-gen task send_report    # then: npx loco task send_report',
    '',
  );
  return lines.join('\n');
}
