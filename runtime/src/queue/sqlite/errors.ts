import { statSync } from 'node:fs';
import { QueueConnectionError } from '../../errors.js';

/** Turns better-sqlite3's failure to open (or to use) a queue file into one message that says what to do. */
export function openError(
  err: unknown,
  display: string,
  how: { create: boolean; mode: string; file: string },
): QueueConnectionError {
  const code = (err as { code?: string }).code;
  const message = (err as Error).message ?? String(err);
  const other = notAFile(how.file);
  let fix: string;
  if (other) {
    fix = `The path is ${other}, not a SQLite file: point queue.uri at a file.`;
  } else if (code === 'SQLITE_NOTADB') {
    fix = 'The file is not a SQLite database: point queue.uri at another file.';
  } else if (code === 'SQLITE_CANTOPEN' && !how.create && how.mode === 'rwc') {
    fix =
      'There is no queue there yet: nothing has been enqueued in this environment (the commands that only read do not create it).';
  } else if (code === 'SQLITE_CANTOPEN' && how.mode !== 'rwc') {
    fix = `The file must exist with ?mode=${how.mode}. Use ?mode=rwc to create it.`;
  } else {
    fix = 'Check that its folder exists and is writable.';
  }
  return new QueueConnectionError(`Cannot open the SQLite queue ${display}: ${message}. ${fix}`, { cause: err });
}

/**
 * A write the file could not take (locked by another writer past the busy timeout, or the disk
 * failing, full or read-only) as a `QueueConnectionError` saying nothing was written; any other
 * error (a constraint, a bad value) is returned as it is.
 */
export function writeError(err: unknown, display: string, busyTimeoutMs: number, action: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const message = (err as Error).message ?? String(err);
  let why: string;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    why =
      `${message}: another connection held the file's write lock for the whole busy timeout (${busyTimeoutMs} ms). ` +
      'Keep transactions on the queue file short';
  } else if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_READONLY')) {
    why = `${message}. Check that the disk has room and the file and its folder are writable`;
  } else {
    return err;
  }
  return new QueueConnectionError(
    `Cannot write to the SQLite queue ${display} to ${action}: ${why}. Nothing was written.`,
    {
      cause: err,
    },
  );
}

/** What the path is when it exists and is not a regular file (`a folder`), else `undefined`. */
function notAFile(file: string): string | undefined {
  if (file === ':memory:') return undefined;
  try {
    const stats = statSync(file);
    if (stats.isFile()) return undefined;
    return stats.isDirectory() ? 'a folder' : 'a device, pipe or socket';
  } catch {
    return undefined;
  }
}
