import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../byte-size.js';
import { LocoError } from '../../errors.js';
import { FileReadError, readTextFile } from '../../read-file.js';

/** Loco's dump file name: `loco-dump-jobs-2024-11-28-08-04-25.yaml` (UTC). */
export function dumpFileName(now: Date, suffix = ''): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `loco-dump-jobs-${stamp}${suffix}.yaml`;
}

/** Creates the dump folder where missing; throws naming the folder when it cannot be used. */
export function prepareDumpFolder(folder: string): void {
  try {
    makeFolder(path.resolve(folder));
  } catch (err) {
    throw new LocoError(`Cannot use ${folder} as the dump folder: ${reason(err)}. Choose a folder you can write to.`, {
      cause: err,
    });
  }
}

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists. Node's own recursive
 * `mkdirSync` retries forever where the system answers ENOENT for a folder it will never create
 * (`/proc/x/y`); here any refusal ends the walk with that error.
 */
function makeFolder(folder: string): void {
  const missing: string[] = [];
  let current = folder;
  for (;;) {
    let stats: Stats | undefined;
    try {
      stats = statSync(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (stats) {
      if (!stats.isDirectory()) throw Object.assign(new Error(`${current} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.unshift(current);
    current = parent;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (err) {
      // Made meanwhile by another process: fine, as long as it is a folder.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw err;
    }
  }
}

/**
 * Writes a dump into `folder` (created if missing) under Loco's file name, never over an
 * existing file (a second dump within the same second gets `-2`, `-3`, ...), and flushes it to
 * disk before returning, so callers may delete the dumped jobs afterwards. Returns the file's path.
 */
export function writeDumpFile(folder: string, text: string, now = new Date()): string {
  prepareDumpFolder(folder);
  for (let attempt = 1; ; attempt++) {
    const file = path.join(folder, dumpFileName(now, attempt === 1 ? '' : `-${attempt}`));
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new LocoError(`Cannot create the dump file ${file}: ${reason(err)}. Choose a folder you can write to.`, {
        cause: err,
      });
    }
    try {
      try {
        writeFileSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      rmSync(file, { force: true });
      throw new LocoError(`Cannot write the dump file ${file}: ${reason(err)}.`, { cause: err });
    }
    return file;
  }
}

/** Largest dump `loco jobs import` reads unless `--max-size` says more. */
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads a dump file of at most `maxBytes` bytes, with a clear message when it is missing, is
 * not a regular file (a folder, `/dev/zero`, a named pipe) or is bigger than that.
 */
export function readDumpFile(file: string, maxBytes = IMPORT_MAX_BYTES): string {
  try {
    return readTextFile(file, maxBytes);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    const fix = {
      missing: 'Give the path of a dump written by loco jobs dump (loco-dump-jobs-....yaml).',
      'not-a-file': 'Give the path of a dump written by loco jobs dump (loco-dump-jobs-....yaml).',
      'too-big': `If it is a dump you trust, raise the limit with --max-size (for example --max-size ${formatBytes(maxBytes * 4)}).`,
      unreadable: 'Check that you may read it.',
    }[err.kind];
    throw new LocoError(`Cannot import ${file}: ${err.reason}. ${fix} Nothing was imported.`, { cause: err });
  }
}

function reason(err: unknown): string {
  const error = err as NodeJS.ErrnoException;
  switch (error.code) {
    case 'ENOTDIR':
      return 'part of the path is a file, not a folder';
    case 'EEXIST':
      return 'a file of that name is in the way';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ENOSPC':
      return 'the disk is full';
    case 'ENOENT':
    case 'EROFS':
      return 'the system does not allow creating a folder there';
    default:
      return error.message ?? String(err);
  }
}
