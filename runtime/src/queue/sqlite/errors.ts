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
