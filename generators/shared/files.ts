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
 * a file where a folder must go, a folder where the file must go, no permission to write it or
 * to create it in its folder. Paths in the message are shown relative to `base`.
 *
 * @param base the folder relative paths are resolved from and shown relative to
 * @param file the file, relative to `base` or absolute
 */
export function writeProblem(base: string, file: string): string | undefined {
  const show = (at: string) => shownPath(base, at);
  const absolute = path.resolve(base, file);
  try {
    const existing = statIfAny(absolute);
    if (existing) {
      if (existing.isDirectory()) return `${show(absolute)} is a folder.`;
      if (!allowed(absolute, constants.W_OK)) return 'it is read-only.';
      return undefined;
    }
    // The file is new: the nearest folder above it that exists must let us create entries.
    for (let folder = path.dirname(absolute); ; folder = path.dirname(folder)) {
      const found = statIfAny(folder);
      if (found) {
        if (!found.isDirectory()) return `${show(folder)} is a file, not a folder.`;
        if (!allowed(folder, constants.W_OK | constants.X_OK)) return `no permission to write in ${show(folder)}.`;
        return undefined;
      }
      if (lstatSync(folder, { throwIfNoEntry: false })) return `${show(folder)} is a broken symbolic link.`;
      if (path.dirname(folder) === folder) return `${show(folder)} does not exist.`;
    }
  } catch (error) {
    return `cannot check it: ${(error as Error).message}.`;
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
  const written: string[] = [];
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
      written.push(file.target);
    } catch (error) {
      throw new WriteError(file.target, error, written, undoAll(undo));
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
    /** The files written before it, which were removed or given back their old text. */
    readonly undone: string[],
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
function statIfAny(file: string): Stats | undefined {
  try {
    return statSync(file);
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
