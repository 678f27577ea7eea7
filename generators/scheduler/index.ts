import { existsSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import { packageRoot } from '../shared/paths.js';
import { renderTemplates } from '../shared/templates.js';

/** The file `loco-gen scheduler` writes, relative to the app's root (Loco's place for it). */
export const SCHEDULER_FILE = 'config/scheduler.yaml';

/** Options of `loco-gen scheduler`. */
export interface SchedulerGeneratorOptions {
  /** The app's root folder. (Default: the current directory) */
  cwd?: string;
  /** Overwrite `config/scheduler.yaml` when it exists. (Default: false, it is refused) */
  force?: boolean;
  /** Print what would change and write nothing. (Default: false) */
  dryRun?: boolean;
  /** Where progress goes. (Default: console.log) */
  log?: (line: string) => void;
  /** Where errors go. (Default: console.error) */
  error?: (line: string) => void;
  /** The templates. (Default: `templates/scheduler` of this package) */
  templates?: string;
}

/**
 * `loco-gen scheduler`: writes a commented `config/scheduler.yaml` (every key, the schedule
 * grammar, a job that runs as it is and commented task and worker jobs), as Loco's
 * `cargo loco generate scheduler`. Returns the exit code: 0 when written (or, with `dryRun`,
 * when it would be), 1 when the folder has no `config/` or the file exists without `force`.
 */
export async function generateScheduler(options: SchedulerGeneratorOptions = {}): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  const templates = options.templates ?? path.join(packageRoot(), 'templates', 'scheduler');

  // 1. An app to write into, and a file that may be written.
  if (!existsSync(path.join(cwd, 'config'))) {
    error(
      pc.red(
        `No config/ folder in ${cwd}. Run loco-gen scheduler in the root folder of an app made by create-loco-app.`,
      ),
    );
    return 1;
  }
  const exists = existsSync(path.join(cwd, SCHEDULER_FILE));
  if (exists && !options.force) {
    error(pc.red(`${SCHEDULER_FILE} exists; it was left as it is. --force overwrites it.`));
    return 1;
  }

  // 2. The file.
  const verb = `${options.dryRun ? 'would ' : ''}${exists ? 'overwrite' : 'create'}`;
  if (!options.dryRun) {
    await renderTemplates(
      [{ template: path.join(templates, 'scheduler.yaml.hbs'), target: SCHEDULER_FILE }],
      {},
      {
        destination: cwd,
        force: Boolean(options.force),
      },
    );
  }
  log(`${pc.green(verb)}  ${SCHEDULER_FILE}`);

  // 3. What next.
  if (options.dryRun) {
    log('\nDry run: nothing was written.');
  } else {
    log(`\nList its jobs with: npx loco scheduler --config ${SCHEDULER_FILE} --list`);
    log(`Run them with:      npx loco scheduler --config ${SCHEDULER_FILE}`);
    log(`or with the app:    SCHEDULER_CONFIG=${SCHEDULER_FILE} npx loco start --all`);
  }
  return 0;
}
