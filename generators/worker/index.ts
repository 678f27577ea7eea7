import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import { appImportLine } from '../shared/app-export.js';
import { templatesDir } from '../shared/paths.js';
import { renderTemplate } from '../shared/render.js';
import { addWorkerToApp, CodemodError, type CodemodResult, HOOK } from './codemod.js';
import { WorkerNameError, type WorkerNames, workerNames } from './names.js';

/** The app file the worker is registered in, relative to the app's root. */
export const APP_FILE = 'src/app.ts';

/** Options of `loco-gen worker`. */
export interface WorkerGeneratorOptions {
  /** The app's root folder. (Default: the current directory) */
  cwd?: string;
  /** Overwrite worker and test files that exist. (Default: false, they are kept) */
  force?: boolean;
  /** Print what would change and write nothing. (Default: false) */
  dryRun?: boolean;
  /** Where progress goes. (Default: console.log) */
  log?: (line: string) => void;
  /** Where errors go. (Default: console.error) */
  error?: (line: string) => void;
  /** The templates. (Default: `templates/worker` of this package) */
  templates?: string;
}

/**
 * `loco-gen worker <name>`: writes `src/workers/<name>.ts` and `tests/workers/<name>.test.ts`
 * and registers the worker in `src/app.ts`. Returns the exit code: 0 when done (or nothing to
 * do), 1 when the name is bad, the folder is no app, or the hook could not be edited (the
 * message then gives the lines to add by hand).
 */
export async function generateWorker(name: string, options: WorkerGeneratorOptions = {}): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  const templates = options.templates ?? templatesDir('worker');

  // 1. Names, and the app to add the worker to.
  let names: WorkerNames;
  try {
    names = workerNames(name);
  } catch (caught) {
    if (!(caught instanceof WorkerNameError)) throw caught;
    error(pc.red(caught.message));
    return 1;
  }
  const appPath = path.join(cwd, APP_FILE);
  if (!existsSync(appPath)) {
    error(
      pc.red(`No ${APP_FILE} in ${cwd}. Run loco-gen worker in the root folder of an app made by create-loco-app.`),
    );
    return 1;
  }
  const appSource = readFileSync(appPath, 'utf8');

  // 2. Plan: the files to write or keep, and the change to src/app.ts (or why there is none).
  const files: Array<{ template: string; target: string }> = [
    { template: path.join(templates, 'worker.ts.hbs'), target: `src/workers/${names.fileName}.ts` },
    { template: path.join(templates, 'worker.test.ts.hbs'), target: `tests/workers/${names.fileName}.test.ts` },
  ];
  const exists = new Set(files.filter((file) => existsSync(path.join(cwd, file.target))));
  const toWrite = files.filter((file) => options.force || !exists.has(file));
  let edit: CodemodResult | CodemodError;
  try {
    edit = addWorkerToApp(appSource, APP_FILE, {
      className: names.className,
      modulePath: `./workers/${names.fileName}`,
    });
  } catch (caught) {
    if (!(caught instanceof CodemodError)) throw caught;
    edit = caught;
  }
  const verb = options.dryRun ? 'would ' : '';

  // 3. Worker and test files.
  if (toWrite.length > 0 && !options.dryRun) {
    const data = { ...names, appImport: appImportLine(appSource) };
    for (const file of toWrite) {
      const target = path.join(cwd, file.target);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, renderTemplate(file.template, data));
    }
  }
  for (const file of files) {
    if (!toWrite.includes(file)) log(`${pc.yellow('keep')}  ${file.target} (exists; --force overwrites it)`);
    else log(`${pc.green(`${verb}${exists.has(file) ? 'overwrite' : 'create'}`)}  ${file.target}`);
  }

  // 4. src/app.ts.
  if (edit instanceof CodemodError) {
    const written = options.dryRun ? [] : toWrite.map((file) => file.target);
    error('');
    error(pc.red(`Could not register ${names.className} in ${HOOK}: ${edit.message}`));
    if (written.length > 0) error(`\nFiles written: ${written.join(', ')}.`);
    return 1;
  }
  if (edit.insertions.length === 0) {
    log(`${pc.dim('unchanged')}  ${APP_FILE} (already imports and registers ${names.className})`);
  } else {
    if (!options.dryRun) writeFileSync(appPath, edit.text);
    log(`${pc.green(`${verb}update`)}  ${APP_FILE}`);
    for (const insertion of edit.insertions) log(pc.green(`  + ${insertion.line}: ${insertion.code}`));
  }

  if (toWrite.length === 0 && edit.insertions.length === 0) {
    log(`\nNothing to do: ${names.className} exists and is registered.`);
  } else if (options.dryRun) {
    log('\nDry run: nothing was written.');
  }
  return 0;
}
