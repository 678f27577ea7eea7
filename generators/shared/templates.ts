import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddActionConfig } from 'node-plop';
import type { FileToWrite } from './files.js';

/** One file to write: a Handlebars template and where its output goes. */
export interface TemplateFile {
  /** Absolute path of the `.hbs` template. */
  template: string;
  /** Output path relative to the destination folder, with `/` separators. */
  target: string;
}

/** File names npm would drop or misread when publishing, stored under another name in `templates/`. */
const RENAMED: Record<string, string> = { _gitignore: '.gitignore' };

/**
 * The output path of a template file: `.hbs` dropped and `_gitignore` turned into `.gitignore`
 * (npm leaves `.gitignore` files out of published packages).
 *
 * @param relative the template's path inside its template folder, with `/` separators
 */
export function targetPath(relative: string): string {
  const parts = relative.replace(/\.hbs$/, '').split('/');
  const last = parts.length - 1;
  parts[last] = RENAMED[parts[last]] ?? parts[last];
  return parts.join('/');
}

/** Every template in `folder` (recursively), with the path its output goes to; sorted by target. */
export function listTemplates(folder: string): TemplateFile[] {
  return filesUnder(folder)
    .map((template) => ({ template, target: targetPath(path.relative(folder, template).split(path.sep).join('/')) }))
    .sort((a, b) => a.target.localeCompare(b.target));
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
  });
}

/** Options of `renderTemplates`. */
export interface RenderOptions {
  /** The folder the targets are relative to. */
  destination: string;
  /** Replace files that exist already; without it an existing file is an error. */
  force: boolean;
}

/**
 * Renders templates into `destination` with node-plop `add` actions (Handlebars, one action per
 * file) and returns the targets written. Throws listing every file that failed.
 */
export async function renderTemplates(
  files: TemplateFile[],
  data: Record<string, unknown>,
  options: RenderOptions,
): Promise<string[]> {
  // node-plop (with inquirer and rxjs) costs a quarter of a second to load: only when writing a tree.
  const { default: nodePlop } = await import('node-plop');
  const plop = await nodePlop(undefined, { destBasePath: options.destination, force: options.force });
  const actions: AddActionConfig[] = files.map((file) => ({
    type: 'add',
    path: file.target,
    templateFile: file.template,
    force: options.force,
    abortOnFail: false,
  }));
  const generator = plop.setGenerator('files', { description: 'Renders templates', prompts: [], actions });
  const { failures } = await generator.runActions({ ...data });
  if (failures.length > 0) {
    const list = failures.map((failure) => `  ${failure.path || failure.type}: ${failure.error}`).join('\n');
    throw new Error(
      `Could not write ${failures.length} of ${files.length} files into ${options.destination}:\n${list}`,
    );
  }
  return files.map((file) => file.target);
}

/**
 * Renders templates to text with Handlebars, as node-plop's `add` actions render them (plop's
 * helpers aside, which the templates do not use), and writes nothing: for a caller that checks
 * every file before writing any, and writes them all or none. Handlebars alone loads in a tenth
 * of node-plop's time, which `loco-gen` pays on every run. Returns the texts in the order of `files`.
 */
export async function renderToText(files: TemplateFile[], data: object): Promise<FileToWrite[]> {
  const { default: handlebars } = await import('handlebars');
  return files.map((file) => ({
    target: file.target,
    text: handlebars.compile(readFileSync(file.template, 'utf8'))(data),
  }));
}
