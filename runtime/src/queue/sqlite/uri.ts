import path from 'node:path';
import { QueueConnectionError } from '../../errors.js';
import { redactPassword } from '../redact.js';

/** Options parsed from a `sqlite://` URI. */
export interface SqliteLocation {
  /** Absolute file path, or `:memory:`. */
  file: string;
  /** `rwc` creates the file; `rw` needs it to exist; `ro` opens it read-only. */
  mode: 'rwc' | 'rw' | 'ro';
}

/** `sqlite://loco.sqlite?mode=rwc` -> file and mode. Relative paths resolve from `root`. */
export function parseSqliteUri(uri: string, root: string): SqliteLocation {
  const match = /^sqlite:(?:\/\/)?([^?]*)(?:\?(.*))?$/.exec(uri.trim());
  if (!match || match[1] === '') {
    throw new QueueConnectionError(
      `Cannot read the SQLite URI '${redactPassword(uri)}'; write it as sqlite://path/to/file.sqlite?mode=rwc.`,
    );
  }
  const params = new URLSearchParams(match[2] ?? '');
  for (const name of new Set(params.keys())) {
    if (name !== 'mode') {
      throw new QueueConnectionError(
        `SQLite URI '${redactPassword(uri)}': the parameter '${name}' means nothing here; the only one is mode (rwc, rw or ro).`,
      );
    }
    if (params.getAll(name).length > 1) {
      throw new QueueConnectionError(`SQLite URI '${redactPassword(uri)}': mode is given twice; give it once.`);
    }
  }
  const mode = params.get('mode') ?? 'rwc';
  if (mode !== 'rwc' && mode !== 'rw' && mode !== 'ro') {
    throw new QueueConnectionError(`SQLite URI '${redactPassword(uri)}': mode must be rwc, rw or ro, found '${mode}'.`);
  }
  let name: string;
  try {
    name = decodeURIComponent(match[1]);
  } catch {
    throw new QueueConnectionError(
      `SQLite URI '${redactPassword(uri)}': the path has a % that is not followed by two hex digits; write %25 for a literal %.`,
    );
  }
  if (name.includes('\0')) {
    // SQLite would stop reading the name at the NUL and open another file than the one written.
    throw new QueueConnectionError(`SQLite URI '${redactPassword(uri)}': the path contains a NUL character (%00).`);
  }
  const file = name === ':memory:' ? ':memory:' : path.resolve(root, name);
  return { file, mode };
}
