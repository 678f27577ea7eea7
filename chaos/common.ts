/** Small helpers shared by the chaos drill's files. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A whole number of milliseconds from `min` to `max`, uniformly. */
export const between = (min: number, max: number): number => Math.round(min + Math.random() * (max - min));

/** One element of a non-empty list, uniformly. */
export const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/** An error's message, or the thrown value as text. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Polls `check` every `everyMs` until it returns true or `ms` pass; returns whether it did. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
