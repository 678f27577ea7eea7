import { QueueConnectionError } from '../../errors.js';

/** Turns better-sqlite3's failure to open (or to use) a queue file into one message that says what to do. */
export function openError(err: unknown, display: string, how: { create: boolean; mode: string }): QueueConnectionError {
  const code = (err as { code?: string }).code;
  const message = (err as Error).message ?? String(err);
  let fix: string;
  if (code === 'SQLITE_NOTADB') {
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
