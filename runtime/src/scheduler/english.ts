/**
 * Loco's English schedules (`every 15 seconds`, `every day at 10:00 am`, `7pm every Thursday`),
 * turned into the cron expression they mean, with seconds: `sec min hour day-of-month month
 * day-of-week [year]`. Periods count from the start of the minute, hour or day, as Loco's (so
 * `every 15 seconds` fires at :00, :15, :30 and :45), which makes every process compute the same
 * times. `ENGLISH_GRAMMAR` is the grammar, shown in errors and in the README.
 */

/** The accepted forms, one per line, for error messages and docs. */
export const ENGLISH_GRAMMAR = [
  'every [N] second(s) | minute(s) | hour(s) | day(s)   e.g. "every 15 seconds", "run every 1 second", "every 5 minutes", "every day"',
  'at TIME, or TIME alone: 10:00 am, 5:15pm, 7pm, 16:30, noon, midnight   e.g. "at 10:00 am", "every day at 4:00 pm"',
  'days: [on] monday [and thursday], monday through friday, every thursday, on weekdays, on weekends',
  'days of the month: on the 1st and 15th [of the month]',
  'months: in september, from january to march;  hours: between 6:00 am and 8:00 pm;  years: in 2030',
  'words that only read well are skipped: run, fire, execute, only, on, the, of, and',
];

/** Why an English schedule could not be read; the message names the word and what was expected. */
export class EnglishScheduleError extends Error {
  override name = 'EnglishScheduleError';
}

const UNITS: Record<string, Unit> = {
  second: 'second',
  seconds: 'second',
  sec: 'second',
  secs: 'second',
  minute: 'minute',
  minutes: 'minute',
  min: 'minute',
  mins: 'minute',
  hour: 'hour',
  hours: 'hour',
  day: 'day',
  days: 'day',
};
type Unit = 'second' | 'minute' | 'hour' | 'day';
/** The largest N of `every N <unit>` that a cron step can express. */
const MAX_STEP: Record<Unit, number> = { second: 60, minute: 60, hour: 24, day: 31 };

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKDAY_WORDS: Record<string, number> = {};
for (const [n, long] of ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].entries()) {
  for (const word of [long, `${long}s`, WEEKDAYS[n]]) WEEKDAY_WORDS[word] = n;
}
WEEKDAY_WORDS.tues = 2;
WEEKDAY_WORDS.thur = 4;
WEEKDAY_WORDS.thurs = 4;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_WORDS: Record<string, number> = {};
const LONG_MONTHS = 'january february march april may june july august september october november december';
for (const [n, long] of LONG_MONTHS.split(' ').entries()) {
  MONTH_WORDS[long] = n + 1;
  MONTH_WORDS[MONTHS[n]] = n + 1;
}
MONTH_WORDS.sept = 9;

/** Words that carry no meaning of their own here. */
const FILLER = new Set(['run', 'fire', 'execute', 'only', 'on', 'the', 'of', 'and', 'in', 'during', 'each']);
const RANGE_WORDS = new Set(['through', 'thru', 'to', '-']);

interface Time {
  hour: number;
  minute: number;
}

/** What the words said, before it becomes cron fields. */
interface Parsed {
  every?: { unit: Unit; n: number };
  time?: Time;
  hours?: [number, number];
  weekdays: Set<number>;
  daysOfMonth: number[];
  months: Set<number>;
  years: number[];
}

/**
 * The cron expression (with seconds) an English schedule means, such as `0 0 10 * * *` for
 * `at 10:00 am`. Throws `EnglishScheduleError` naming the first word it cannot place.
 */
export function englishToCron(text: string): string {
  const parsed = parse(tokenize(text));
  return toCron(parsed);
}

function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/(\d)\s*(am|pm)\b/g, '$1 $2')
    .replace(/[,.;]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

function parse(tokens: string[]): Parsed {
  const parsed: Parsed = { weekdays: new Set(), daysOfMonth: [], months: new Set(), years: [] };
  let i = 0;
  const peek = (offset = 0) => tokens[i + offset];
  const fail = (message: string): never => {
    throw new EnglishScheduleError(message);
  };

  /** A time at tokens[i] (`10:00 [am]`, `7 pm`, `noon`, `midnight`), consumed; undefined when there is none. */
  const time = (): Time | undefined => {
    const word = peek();
    if (word === 'noon') {
      i += 1;
      return { hour: 12, minute: 0 };
    }
    if (word === 'midnight') {
      i += 1;
      return { hour: 0, minute: 0 };
    }
    const match = /^(\d{1,2})(?::(\d{2}))?$/.exec(word ?? '');
    if (!match) return undefined;
    const meridiem = peek(1) === 'am' || peek(1) === 'pm' ? peek(1) : undefined;
    // A bare number is a time only with a colon or am/pm ("at 10" reads as 10:00 too).
    if (!match[2] && !meridiem && tokens[i - 1] !== 'at') return undefined;
    let hour = Number(match[1]);
    const minute = match[2] ? Number(match[2]) : 0;
    if (minute > 59) fail(`'${word}': minutes go from 00 to 59.`);
    if (meridiem) {
      if (hour < 1 || hour > 12) fail(`'${word} ${meridiem}': with am or pm the hour goes from 1 to 12.`);
      hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
    } else if (hour > 23) {
      fail(`'${word}': hours go from 0 to 23 (or 1 to 12 with am/pm).`);
    }
    i += meridiem ? 2 : 1;
    return { hour, minute };
  };

  const setTime = (found: Time) => {
    if (parsed.time) fail('two times of day were given; a schedule takes one (use cron for several).');
    parsed.time = found;
  };

  /** A weekday at tokens[i], or a range `monday through friday`; adds it and returns true. */
  const weekdays = (): boolean => {
    const word = peek();
    if (word === 'weekday' || word === 'weekdays') {
      for (const day of [1, 2, 3, 4, 5]) parsed.weekdays.add(day);
      i += 1;
      return true;
    }
    if (word === 'weekend' || word === 'weekends') {
      parsed.weekdays.add(6).add(0);
      i += 1;
      return true;
    }
    const first = WEEKDAY_WORDS[word ?? ''];
    if (first === undefined) return false;
    i += 1;
    if (RANGE_WORDS.has(peek()) && WEEKDAY_WORDS[peek(1)] !== undefined) {
      const last = WEEKDAY_WORDS[peek(1)];
      i += 2;
      for (let day = first; ; day = (day + 1) % 7) {
        parsed.weekdays.add(day);
        if (day === last) break;
      }
    } else {
      parsed.weekdays.add(first);
    }
    return true;
  };

  /** A month at tokens[i], or a range `january to march`; adds it and returns true. */
  const months = (): boolean => {
    if (peek() === 'from' && MONTH_WORDS[peek(1)] !== undefined) i += 1;
    const first = MONTH_WORDS[peek() ?? ''];
    if (first === undefined) return false;
    i += 1;
    if (RANGE_WORDS.has(peek()) && MONTH_WORDS[peek(1)] !== undefined) {
      const last = MONTH_WORDS[peek(1)];
      i += 2;
      for (let month = first; ; month = (month % 12) + 1) {
        parsed.months.add(month);
        if (month === last) break;
      }
    } else {
      parsed.months.add(first);
    }
    return true;
  };

  while (i < tokens.length) {
    const word = peek();
    if (word === 'every') {
      i += 1;
      const count = /^\d+$/.test(peek() ?? '') ? Number(peek()) : undefined;
      const ordinal = /^(\d+)(st|nd|rd|th)$/.exec(peek() ?? '');
      if (count !== undefined || ordinal) i += 1;
      const unit = UNITS[peek() ?? ''];
      if (ordinal && unit === 'day') {
        // "every 2nd day of the month": that day of each month.
        i += 1;
        addDayOfMonth(parsed, Number(ordinal[1]), fail);
        continue;
      }
      if (unit) {
        if (parsed.every) fail(`'every' appears twice; a schedule has one period.`);
        const n = count ?? 1;
        if (n < 1 || n > MAX_STEP[unit]) {
          fail(
            `'every ${n} ${peek()}': the number goes from 1 to ${MAX_STEP[unit]} for ${unit}s (use cron otherwise).`,
          );
        }
        parsed.every = { unit, n };
        i += 1;
        continue;
      }
      if (count === undefined && !ordinal && peek() === 'month') {
        i += 1;
        continue;
      }
      if (count === undefined && !ordinal && weekdays()) continue;
      fail(
        `'every' must be followed by [N] second(s), minute(s), hour(s), day(s) or a weekday, found '${peek() ?? 'nothing'}'.`,
      );
    }
    if (word === 'at') {
      i += 1;
      const found = time();
      if (!found)
        fail(
          `'at' must be followed by a time such as 10:00 am, 7pm, 16:30, noon or midnight, found '${peek() ?? 'nothing'}'.`,
        );
      setTime(found!);
      continue;
    }
    if (word === 'between') {
      i += 1;
      const from = time();
      if (peek() === 'and') i += 1;
      const to = time();
      if (!from || !to) fail(`'between' must be followed by two times, as in 'between 6:00 am and 8:00 pm'.`);
      if (from!.minute !== 0 || to!.minute !== 0)
        fail(`'between' takes whole hours (6:00 am, 8 pm): it limits the hours.`);
      if (from!.hour > to!.hour) fail(`'between ${from!.hour}:00 and ${to!.hour}:00': the first time must come first.`);
      parsed.hours = [from!.hour, to!.hour];
      continue;
    }
    const ordinal = /^(\d+)(st|nd|rd|th)$/.exec(word);
    if (ordinal) {
      // "on the 1st and 15th [day] [of the month]"
      addDayOfMonth(parsed, Number(ordinal[1]), fail);
      i += peek(1) === 'day' ? 2 : 1;
      continue;
    }
    if (/^\d{4}$/.test(word)) {
      parsed.years.push(Number(word));
      i += 1;
      continue;
    }
    if (weekdays() || months()) continue;
    const found = time();
    if (found) {
      setTime(found);
      continue;
    }
    if (FILLER.has(word) || (word === 'month' && tokens[i - 1] === 'the')) {
      i += 1;
      continue;
    }
    fail(`cannot place the word '${word}'.`);
  }
  return parsed;
}

function addDayOfMonth(parsed: Parsed, day: number, fail: (message: string) => never): void {
  if (day < 1 || day > 31) fail(`the ${day}th: days of the month go from 1 to 31.`);
  if (!parsed.daysOfMonth.includes(day)) parsed.daysOfMonth.push(day);
}

function toCron(p: Parsed): string {
  const { every, time } = p;
  const unit = every?.unit;
  const step = (n: number, all = '*') => (n > 1 ? `${all}/${n}` : all);
  if (time && (unit === 'second' || unit === 'minute' || unit === 'hour')) {
    throw new EnglishScheduleError(
      `'every ${every!.n} ${unit}(s)' and 'at' a time do not go together: 'at' fixes the hour and minute. ` +
        `Limit the hours with 'between 6:00 am and 8:00 pm' instead.`,
    );
  }
  if (p.hours && (unit === 'day' || time || !unit)) {
    throw new EnglishScheduleError(`'between' limits the hours of 'every N seconds, minutes or hours' only.`);
  }
  if (unit === 'day' && every!.n > 1 && p.daysOfMonth.length > 0) {
    throw new EnglishScheduleError(`'every ${every!.n} days' and days of the month do not go together; pick one.`);
  }
  if (!every && !time && p.weekdays.size === 0 && p.daysOfMonth.length === 0 && p.months.size === 0) {
    throw new EnglishScheduleError(
      'it says nothing about when to run: give a period (every 5 minutes) or a time (at 10:00 am).',
    );
  }
  const hourRange = p.hours ? `${p.hours[0]}-${p.hours[1]}` : undefined;
  const second = unit === 'second' ? step(every!.n) : '0';
  const minute = unit === 'second' ? '*' : unit === 'minute' ? step(every!.n) : String(time?.minute ?? 0);
  let hour: string;
  if (unit === 'second' || unit === 'minute') hour = hourRange ?? '*';
  else if (unit === 'hour') hour = step(every!.n, hourRange ?? '*');
  else hour = String(time?.hour ?? 0);
  const dayOfMonth =
    p.daysOfMonth.length > 0
      ? [...p.daysOfMonth].sort((a, b) => a - b).join(',')
      : unit === 'day'
        ? step(every!.n)
        : '*';
  const month =
    p.months.size > 0
      ? [...p.months]
          .sort((a, b) => a - b)
          .map((m) => MONTHS[m - 1].toUpperCase())
          .join(',')
      : '*';
  const dayOfWeek =
    p.weekdays.size > 0
      ? [...p.weekdays]
          .sort((a, b) => a - b)
          .map((d) => WEEKDAYS[d].toUpperCase())
          .join(',')
      : '*';
  const fields = [second, minute, hour, dayOfMonth, month, dayOfWeek];
  if (p.years.length > 0) fields.push([...p.years].sort((a, b) => a - b).join(','));
  return fields.join(' ');
}
