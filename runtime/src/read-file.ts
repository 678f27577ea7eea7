/**
 * Reading a file the user named (a config file, a dump to import) without trusting it: only a
 * regular file is read, and only up to a size limit, so that a path linked to `/dev/zero`, a
 * named pipe with no writer or a huge file is refused at once instead of filling the memory or
 * blocking forever.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { formatBytes } from './byte-size.js';

/** Why a file was not read, as `kind` for the caller's advice and `reason` in words. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(
    readonly file: string,
    /** `missing`, `not-a-file` (a folder, device, pipe or socket), `too-big`, or `unreadable`. */
    readonly kind: 'missing' | 'not-a-file' | 'too-big' | 'unreadable',
    /** What was found, to follow "cannot read <file>: ", e.g. `it is a folder, not a file`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot read ${file}: ${reason}.`, options);
  }
}

/** Largest read per call: a file that keeps growing (a `/proc` file) is read in steps. */
const CHUNK = 1024 * 1024;

/**
 * Reads a regular file of at most `maxBytes` bytes as UTF-8. Anything else throws a
 * `FileReadError` naming the file, what it is, and the limit where that is the problem.
 *
 * The file is opened without blocking (a FIFO with no writer opens at once) and checked through
 * its open descriptor, so what is read is what was checked.
 */
export function readTextFile(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw openFailure(file, err);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new FileReadError(file, 'not-a-file', `it is ${whatItIs(stats)}, not a regular file`);
    const tooBig = (size: string) =>
      new FileReadError(file, 'too-big', `it is ${size}, over the limit of ${formatBytes(maxBytes)}`);
    if (stats.size > maxBytes) throw tooBig(formatBytes(stats.size));
    // A file may grow after fstat, or report size 0 and hold text (/proc): read until the end or the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > maxBytes) throw tooBig(`more than ${formatBytes(maxBytes)}`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw openFailure(file, err);
  } finally {
    closeSync(fd);
  }
}

function whatItIs(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice()) return 'a character device (like /dev/zero)';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function openFailure(file: string, err: unknown): FileReadError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new FileReadError(file, 'missing', 'there is no such file', { cause: err });
    case 'ENOTDIR':
      return new FileReadError(file, 'missing', 'part of the path is a file, not a folder', { cause: err });
    case 'EISDIR':
      return new FileReadError(file, 'not-a-file', 'it is a folder, not a regular file', { cause: err });
    case 'ENXIO':
      return new FileReadError(file, 'not-a-file', 'it is a socket or device, not a regular file', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new FileReadError(file, 'unreadable', 'permission denied', { cause: err });
    case 'ELOOP':
      return new FileReadError(file, 'unreadable', 'it is a symbolic link that leads back to itself', { cause: err });
    default:
      return new FileReadError(file, 'unreadable', (err as Error).message ?? String(err), { cause: err });
  }
}
