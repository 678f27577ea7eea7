/** Small text helpers shared by the `loco jobs` commands. */

/** `1 job`, `3 jobs`, `2 entries`. */
export function plural(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun.replace(/([^aeiou])y$/, '$1ie')}s`}`;
}

/** `DownloadWorker, EmailWorker` or `none`. */
export function nameList(names: readonly string[]): string {
  return names.length > 0 ? [...names].sort().join(', ') : 'none';
}

/**
 * The message for a job name no registered worker has, listing the ones there are (and the
 * registered name that differs only in case, if any).
 */
export function unknownWorkerMessage(name: string, registered: readonly string[]): string {
  const near = registered.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return (
    `No worker is registered under the name '${name}'${near ? ` (did you mean ${near}?)` : ''}. ` +
    `Registered workers: ${nameList(registered)}. Workers are registered in connectWorkers in src/app.ts, ` +
    'under their class name in UpperCamelCase.'
  );
}

/**
 * Lays out rows as aligned columns under a header. Columns listed in `right` are right-aligned
 * (numbers); the last column is not padded.
 */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => {
        if (column === cells.length - 1 && !right.has(column)) return cell;
        return right.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** ms since the epoch -> `2024-11-28 08:04:25Z` (UTC, to the second). */
export function shortTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The first line of a text, cut to `max` characters. */
export function firstLine(text: string | null, max = 60): string {
  if (!text) return '';
  const line = text.split('\n', 1)[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
