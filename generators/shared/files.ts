import {
  accessSync,
  constants,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/** A file to write: its path relative to the folder written into, and its text. */
export interface FileToWrite {
  /** Relative to the folder, with `/` separators: `src/workers/report_worker.ts`. */
  target: string;
  text: string;
}

/** Writes one file; `writeAll` takes another (tests make it fail). */
export type WriteFile = (file: string, text: string) => void;

/**
 * Why `file` cannot be written (created, or replaced when it exists), or undefined when it can:
 * it is a folder or read-only, or its folder cannot take it (see `folderProblem`). One sentence;
 * "it" is the file, other paths are shown relative to `base`.
 *
 * @param base the folder relative paths are resolved from and shown relative to
 * @param file the file, relative to `base` or absolute
 */
export function writeProblem(base: string, file: string): string | undefined {
  const absolute = path.resolve(base, file);
  try {
    const existing = statIfAny(absolute);
    if (!existing) return folderProblem(base, path.dirname(absolute));
    if (existing.isDirectory()) return 'it is a folder.';
    if (!allowed(absolute, constants.W_OK)) return 'it is read-only.';
    return undefined;
  } catch (error) {
    return `cannot check it: ${(error as Error).message}.`;
  }
}

/**
 * Why files cannot be created in `folder` (the folder itself, or the folders to create above it),
 * or undefined when they can: the folder, or the nearest one above it that exists, is a file, a
 * broken symbolic link, or not writable. One sentence naming the path at fault, shown relative to
 * `base`.
 */
export function folderProblem(base: string, folder: string): string | undefined {
  const show = (at: string) => shownPath(base, at);
  try {
    for (let at = path.resolve(base, folder); ; at = path.dirname(at)) {
      const found = statIfAny(at);
      if (found) {
        if (!found.isDirectory()) return `${show(at)} is a file, not a folder.`;
        if (!allowed(at, constants.W_OK | constants.X_OK)) return `no permission to write in ${show(at)}.`;
        return undefined;
      }
      if (statIfAny(at, lstatSync)) return `${show(at)} is a broken symbolic link.`;
      if (path.dirname(at) === at) return `${show(at)} does not exist.`;
    }
  } catch (error) {
    return `cannot check ${show(folder)}: ${(error as Error).message}.`;
  }
}

/**
 * Writes the files in order, creating the folders they need, all or nothing: when a write fails,
 * the files written before it are removed (or given back their old text) and the folders created
 * for them removed, and the error says so.
 *
 * @param base the folder the targets are relative to
 * @throws WriteError naming the file that failed and what was undone
 */
export function writeAll(base: string, files: FileToWrite[], writeFile: WriteFile = writeFileSync): void {
  const undo: Array<() => void> = [];
  const created: string[] = [];
  const replaced: string[] = [];
  for (const file of files) {
    const absolute = path.join(base, file.target);
    try {
      for (const folder of missingFolders(path.dirname(absolute))) {
        mkdirSync(folder);
        undo.push(() => rmdirSync(folder));
      }
      const before = statIfAny(absolute) ? readFileSync(absolute) : undefined;
      // Pushed before the write: a write that fails half-way leaves the file to be put back too.
      undo.push(before === undefined ? () => rmSync(absolute, { force: true }) : () => writeFileSync(absolute, before));
      writeFile(absolute, file.text);
      (before === undefined ? created : replaced).push(file.target);
    } catch (error) {
      throw new WriteError(file.target, error, { created, replaced }, undoAll(undo));
    }
  }
}

/** A write failed; what was written before it has been undone, as far as possible. */
export class WriteError extends Error {
  override name = 'WriteError';

  constructor(
    /** The file that could not be written. */
    readonly target: string,
    cause: unknown,
    /** The files written before it: the new ones were removed, the replaced ones given back their old text. */
    readonly undone: { created: string[]; replaced: string[] },
    /** What could not be undone, one line each (empty when everything was). */
    readonly leftOver: string[],
  ) {
    super(`Could not write ${target}: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
  }
}

/** Runs the undo steps newest first; returns a line for each that failed. */
function undoAll(undo: Array<() => void>): string[] {
  const failed: string[] = [];
  for (const step of undo.reverse()) {
    try {
      step();
    } catch (error) {
      failed.push((error as Error).message);
    }
  }
  return failed;
}

/** The folders from the top down that `folder` needs and do not exist yet. */
function missingFolders(folder: string): string[] {
  const missing: string[] = [];
  for (let at = folder; !statIfAny(at); at = path.dirname(at)) {
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  return missing;
}

/** The file's stats (following links), or undefined when there is none: missing, or a file on the way. */
function statIfAny(file: string, stat: (file: string) => Stats = statSync): Stats | undefined {
  try {
    return stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function allowed(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

/** `file` relative to `base` when inside it, else absolute. */
export function shownPath(base: string, file: string): string {
  const relative = path.relative(base, file);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
