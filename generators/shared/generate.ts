import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import type { CodemodResult, HookRegistration } from './codemod.js';
import { type FileToWrite, WriteError, type WriteFile, writeAll, writeProblem } from './files.js';
import { type ClassNames, NameError } from './names.js';

/** The app file classes are registered in, relative to the app's root. */
export const APP_FILE = 'src/app.ts';

/**
 * One `loco-gen` generator: a class in `src/<folder>/<name>.ts`, its test in
 * `tests/<folder>/<name>.test.ts`, and its registration in a hook of `src/app.ts`.
 */
export interface ClassGenerator<N extends ClassNames> {
  /** What it makes, for messages and the command: `worker`. */
  kind: string;
  /** The folder under `src/` and `tests/`: `workers`. */
  folder: string;
  /** The class suffix, for the advice on a name clash: `Worker`. */
  suffix: string;
  /** Checks the name typed and derives the others; throws a `NameError` saying what is wrong. */
  names(input: string): N;
  /** The templates, by name: `{ source: '.../worker.ts.hbs', test: '.../worker.test.ts.hbs' }`. */
  templates(folder: string): { source: string; test: string };
  /** How the class is registered in the app. */
  registration(names: N): HookRegistration;
  /** The hook as an app would declare it, for an app that has none: `registerTasks(tasks: TaskRegistry) {}`. */
  hookDeclaration: string;
}

/** Options of a `loco-gen` generator. */
export interface GenerateOptions {
  /** The app's root folder. (Default: the current directory) */
  cwd?: string;
  /** Overwrite the class and test files when they exist. (Default: false, they are kept) */
  force?: boolean;
  /** Run every check and print what would change, but write nothing. (Default: false) */
  dryRun?: boolean;
  /** Where progress goes. (Default: console.log) */
  log?: (line: string) => void;
  /** Where errors go. (Default: console.error) */
  error?: (line: string) => void;
  /** The folder holding the generator's templates. (Default: `templates/<kind>` of this package) */
  templates?: string;
  /** Writes one file. (Default: fs.writeFileSync; tests pass one that fails) */
  writeFile?: WriteFile;
}

/**
 * Runs a generator in an app, all or nothing: it checks the name, that `src/app.ts` parses and
 * has a hook it can edit, that the class name is free, and that every file can be written, and
 * only then writes the class, its test and `src/app.ts` (in that order). A write that still fails
 * undoes the ones before it. Returns the exit code: 0 when done (or nothing to do), 1 when refused
 * (with the reason and what to do; nothing is written then).
 *
 * @param templates the generator's template folder
 */
export async function generate<N extends ClassNames>(
  generator: ClassGenerator<N>,
  input: string,
  templates: string,
  options: GenerateOptions = {},
): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  const { kind, folder } = generator;
  const command = `npx loco-gen ${kind} ${input.trim()}`;
  const refuse = (...lines: string[]): number => {
    for (const line of lines) error(line);
    return 1;
  };

  // 1. The names, and the app to add the class to.
  let names: N;
  try {
    names = generator.names(input);
  } catch (caught) {
    if (!(caught instanceof NameError)) throw caught;
    return refuse(pc.red(caught.message));
  }
  const appPath = path.join(cwd, APP_FILE);
  if (!existsSync(appPath)) {
    return refuse(
      pc.red(`No ${APP_FILE} in ${cwd}. Run loco-gen ${kind} in the root folder of an app made by create-loco-app.`),
    );
  }
  const appSource = readFileSync(appPath, 'utf8');

  // 2. The change to src/app.ts: refused when it does not parse, when the class name is taken
  //    there or by another file in src/<folder>/, or when the hook cannot be edited. The modules
  //    that read TypeScript load ts-morph (a few hundred ms), so they are imported only here:
  //    a refused name or a folder that is no app never pays for it.
  //    An app in the shape create-loco-app writes takes the fast path, on the text (quick-edit.ts).
  const registration = generator.registration(names);
  const { quickEdit } = await import('./quick-edit.js');
  const clashes = await declaredElsewhere(cwd, folder, names);
  let edit: CodemodResult | undefined = quickEdit(appSource, registration);
  if (edit === undefined) {
    const { addToHook, AppSyntaxError, CodemodError, NameClashError } = await import('./codemod.js');
    try {
      edit = addToHook(appSource, APP_FILE, registration);
    } catch (caught) {
      if (caught instanceof AppSyntaxError) return refuse(pc.red(caught.message), 'Nothing was written.');
      if (caught instanceof NameClashError) clashes.unshift(caught.message);
      else if (caught instanceof CodemodError) {
        return refuse(
          pc.red(`Could not register ${names.className} in ${registration.hook}: ${caught.message}`),
          '',
          `Nothing was written. Add the lines above to ${APP_FILE} (an app without a ${registration.hook} hook ` +
            `needs one: ${generator.hookDeclaration}), then run ${command} again: it writes the ${kind} files and ` +
            `leaves ${APP_FILE} as it is.`,
        );
      } else throw caught;
    }
  }
  if (clashes.length > 0 || edit === undefined) {
    return refuse(
      pc.red(`The ${kind} class ${names.className} is taken:`),
      ...clashes.map((clash) => `  ${clash}`),
      `Pick another name: loco-gen ${kind} <name> makes the class <Name>${generator.suffix} ` +
        `(${names.fileName} -> ${names.className}), so choose a name whose class is not in use yet. Nothing was written.`,
    );
  }

  // 3. The files: the ones to write, and the ones kept because they exist.
  const { source, test } = generator.templates(templates);
  const files = [
    { template: source, target: `src/${folder}/${names.fileName}.ts` },
    { template: test, target: `tests/${folder}/${names.fileName}.test.ts` },
  ];
  const exists = new Set(files.filter((file) => existsSync(path.join(cwd, file.target))));
  const toWrite = files.filter((file) => options.force || !exists.has(file));
  const writes: FileToWrite[] = [];
  if (toWrite.length > 0) {
    // node-plop (and inquirer, which it loads for its prompts) only when there is something to render.
    const { renderToText } = await import('./templates.js');
    const { quickAppImportLine } = await import('./quick-edit.js');
    const appImport = quickAppImportLine(appSource) ?? (await import('./app-export.js')).appImportLine(appSource);
    writes.push(...(await renderToText(toWrite, { ...names, appImport })));
  }
  if (edit.insertions.length > 0) writes.push({ target: APP_FILE, text: edit.text });

  // 4. Can each of them be written?
  const problems = writes.flatMap(({ target }) => {
    const problem = writeProblem(cwd, target);
    return problem ? [`Cannot write ${target}: ${problem}`] : [];
  });
  if (problems.length > 0) return refuse(...problems.map((problem) => pc.red(problem)), 'Nothing was written.');

  // 5. Write, all or nothing.
  if (!options.dryRun) {
    try {
      writeAll(cwd, writes, options.writeFile);
    } catch (caught) {
      if (!(caught instanceof WriteError)) throw caught;
      const { created, replaced } = caught.undone;
      return refuse(
        pc.red(caught.message),
        ...(created.length > 0 ? [`Removed what this run wrote: ${created.join(', ')}.`] : []),
        ...(replaced.length > 0 ? [`Gave back their old text: ${replaced.join(', ')}.`] : []),
        ...(created.length + replaced.length === 0 ? ['Nothing was written.'] : []),
        ...caught.leftOver.map((line) => pc.yellow(`Could not undo: ${line}`)),
      );
    }
  }

  // 6. Say what was done.
  const verb = options.dryRun ? 'would ' : '';
  for (const file of files) {
    if (!toWrite.includes(file)) log(`${pc.yellow('keep')}  ${file.target} (exists; --force overwrites it)`);
    else log(`${pc.green(`${verb}${exists.has(file) ? 'overwrite' : 'create'}`)}  ${file.target}`);
  }
  if (edit.insertions.length === 0) {
    log(`${pc.dim('unchanged')}  ${APP_FILE} (already imports and registers ${names.className})`);
  } else {
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

/**
 * Where files in `src/<folder>/` other than the class's own declare its name: a second class of
 * the name would clash on import, and in the registry. One line each: `src/workers/x.ts:3: declares X`.
 */
async function declaredElsewhere(cwd: string, folder: string, names: ClassNames): Promise<string[]> {
  const dir = path.join(cwd, 'src', folder);
  if (!existsSync(dir)) return [];
  const own = `${names.fileName}.ts`;
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.[cm]?tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .filter((entry) => entry.name !== own)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((entry) => ({ name: entry.name, text: readFileSync(path.join(dir, entry.name), 'utf8') }));
  // A file that does not mention the name cannot declare it: only the others are parsed.
  const { mentions } = await import('./quick-edit.js');
  const suspects = files.filter((file) => mentions(file.text, names.className));
  if (suspects.length === 0) return [];
  const { declarationLines } = await import('./syntax.js');
  return suspects.flatMap((file) =>
    declarationLines(file.text, file.name, names.className).map(
      (line) => `src/${folder}/${file.name}:${line}: declares ${names.className}`,
    ),
  );
}
