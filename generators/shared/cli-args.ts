/** The options of a `util.parseArgs` configuration, as typed on the command line: `--force`, `-h`. */
export function optionSpellings(options: Record<string, { type: string; short?: string }>): string[] {
  return Object.entries(options).flatMap(([name, option]) => [
    `--${name}`,
    ...(option.short ? [`-${option.short}`] : []),
  ]);
}

/**
 * The message for an error `util.parseArgs` throws, as one sentence. Node's own text for an
 * unknown option ends in an unbalanced quote (`... as in '-- "--bogus"`) and is about passing
 * positionals after `--`, which is not what a mistyped option needs; this names the option, and
 * the known one it is closest to, if any.
 *
 * @param known the options the command takes, as typed: `['--force', '--dry-run', '-h']`
 */
export function argsErrorMessage(error: unknown, known: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: string } | undefined)?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const option = /'([^']*)'/.exec(message)?.[1] ?? message;
  const near = closestOption(option, known);
  return `Unknown option '${option}'${near ? ` (did you mean ${near}?)` : ''}. The options are listed below.`;
}

/** The known option at most two edits away from `option` (long options only), if exactly one is. */
function closestOption(option: string, known: readonly string[]): string | undefined {
  if (!option.startsWith('--')) return undefined;
  const near = known.filter((candidate) => candidate.startsWith('--') && editDistance(option, candidate) <= 2);
  return near.length === 1 ? near[0] : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
