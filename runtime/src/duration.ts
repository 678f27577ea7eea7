/** A length of time: milliseconds, or text such as `500ms`, `30s`, `5m`, `2h`, `1d`. */
export type Duration = number | string;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d` or a number of ms. Throws naming the value otherwise. */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (match) return Number(match[1]) * UNIT_MS[match[2]];
  }
  throw new RangeError(
    `${what}: expected milliseconds >= 0 or a duration such as 500ms, 30s, 5m, 2h, 1d; found ${JSON.stringify(value)}.`,
  );
}
