/**
 * A job's `schedule:`, read once: cron with seconds as Loco's, plain 5-field cron, or one of
 * Loco's English forms, in the job's timezone (UTC unless it says otherwise). Cron times are
 * computed by croner; English is first turned into the cron it means (`english.ts`).
 */
import { Cron, type CronOptions } from 'croner';
import { ENGLISH_GRAMMAR, EnglishScheduleError, englishToCron } from './english.js';

/** Examples of every accepted form, for error messages. */
export const SCHEDULE_EXAMPLES = [
  'cron with seconds, as Loco\'s (UTC): "sec min hour day-of-month month day-of-week [year]", e.g. "0 */5 * * * *", "0 0 10 * * MON-FRI"',
  'plain cron: "min hour day-of-month month day-of-week", e.g. "*/5 * * * *", "0 3 * * *", or @hourly, @daily, @weekly, @monthly',
  ...ENGLISH_GRAMMAR.map((line) => `English: ${line}`),
];

/** A schedule that cannot be read, or never fires; the message says why (without file or key). */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** A parsed schedule: the times a job runs. */
export interface Schedule {
  /** The schedule as written. */
  readonly text: string;
  /** The cron expression it runs on: the text itself, or the cron an English schedule means. */
  readonly cron: string;
  /** The IANA timezone its times are read in. */
  readonly timezone: string;
  /** The first time strictly after `after` (ms since the epoch), or null when there is none. */
  next(after: number): number | null;
  /** The last time at or before `atOrBefore`, or null when there is none. */
  previous(atOrBefore: number): number | null;
  /** The next `count` times after `after`. */
  upcoming(count: number, after: number): number[];
}

/**
 * Cron with seconds is read as Loco reads it: day-of-week numbers 1 (Sunday) to 7 (Saturday),
 * day-of-month and day-of-week both have to match, and `0/15` steps are allowed. Plain 5-field
 * cron is read as crontab reads it: 0 or 7 is Sunday, and either day field may match.
 */
const WITH_SECONDS: CronOptions = {
  mode: '6-or-7-parts',
  alternativeWeekdays: true,
  domAndDow: true,
  sloppyRanges: true,
};
const CRONTAB: CronOptions = { mode: '5-part' };

/** Whether the text is cron (5 to 7 fields of cron characters, or an @nickname) rather than English. */
export function looksLikeCron(text: string): boolean {
  const fields = text.trim().split(/\s+/);
  if (fields.length === 1 && fields[0].startsWith('@')) return true;
  return fields.length >= 5 && fields.length <= 7 && /^[\d*?/,-]+$/.test(fields[0]);
}

/**
 * Reads a schedule in `timezone` (default UTC). Throws `ScheduleError` when the text is neither
 * cron nor English this reads, when the timezone is unknown, or when no time after `now` matches
 * (30 February, a year gone by).
 */
export function parseSchedule(text: string, timezone = 'UTC', now = Date.now()): Schedule {
  checkTimezone(timezone);
  const written = text.trim();
  let cron: string;
  let options: CronOptions;
  if (looksLikeCron(written)) {
    cron = written;
    options = written.split(/\s+/).length === 5 || written.startsWith('@') ? CRONTAB : WITH_SECONDS;
  } else {
    try {
      cron = englishToCron(written);
    } catch (err) {
      if (!(err instanceof EnglishScheduleError)) throw err;
      throw new ScheduleError(`cannot read '${text}' as English: ${err.message}`);
    }
    options = WITH_SECONDS;
  }
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { ...options, timezone });
  } catch (err) {
    throw new ScheduleError(`cannot read '${text}' as cron: ${cronProblem(cron, err)}`);
  }
  const toMs = (date: Date | null | undefined) => (date ? date.getTime() : null);
  const schedule: Schedule = {
    text: written,
    cron,
    timezone,
    next: (after) => toMs(pattern.nextRun(new Date(after))),
    previous: (atOrBefore) => toMs(pattern.previousRuns(1, new Date(atOrBefore + 1))[0]),
    upcoming: (count, after) => pattern.nextRuns(count, new Date(after)).map((date) => date.getTime()),
  };
  if (schedule.next(now) === null) {
    throw new ScheduleError(
      `'${text}'${cron === written ? '' : ` (cron ${cron})`} never fires: no date from now on matches it ` +
        '(a day the month does not have, such as 30 February, or a year gone by).',
    );
  }
  return schedule;
}

function cronProblem(cron: string, err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '');
  const fields = cron.split(/\s+/);
  if (fields.length >= 6 && /(^|[,-])0($|[,-/])/.test(fields[5])) {
    return `day-of-week 0 is not a day in cron with seconds: as in Loco, days go from 1 (Sunday) to 7 (Saturday); write SUN or 1.`;
  }
  if (fields.length < 5 || fields.length > 7) {
    return `found ${fields.length} fields; cron has 5 (min hour day month weekday), 6 (with seconds first) or 7 (and a year last).`;
  }
  return message.endsWith('.') ? message : `${message}.`;
}

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ScheduleError(
      `timezone '${timezone}' is not an IANA timezone; use a name such as UTC, Europe/Paris or America/New_York.`,
    );
  }
}
