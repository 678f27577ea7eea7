// Schedules: cron with seconds read as Loco reads it, plain crontab, English, timezones, and the
// schedules refused at boot (unreadable, never firing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { looksLikeCron, parseSchedule, ScheduleError } from '../../runtime/src/scheduler/schedule.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** A Wednesday. */
const NEW_YEAR = at('2025-01-01T00:00:00Z');

test('cron with seconds, as Loco: sec min hour day month weekday [year], in UTC', () => {
  const every5 = parseSchedule('*/5 * * * * *', 'UTC', NEW_YEAR);
  assert.equal(every5.upcoming(3, NEW_YEAR).map(iso), [
    '2025-01-01T00:00:05.000Z',
    '2025-01-01T00:00:10.000Z',
    '2025-01-01T00:00:15.000Z',
  ]);
  // Loco's docs example: second by second through minute 2 of each hour.
  const minute2 = parseSchedule('* 2 * * * *', 'UTC', NEW_YEAR);
  assert.is(iso(minute2.next(NEW_YEAR)), '2025-01-01T00:02:00.000Z');
  assert.is(iso(minute2.next(at('2025-01-01T00:02:59Z'))), '2025-01-01T01:02:00.000Z');
  // Loco's english-to-cron output: `0/15` steps, `?` and a year field.
  assert.is(iso(parseSchedule('0/15 * * * * ? *', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-01T00:00:15.000Z');
  assert.is(iso(parseSchedule('0 0 10 * * ? 2026', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2026-01-01T10:00:00.000Z');
});

test('cron with seconds numbers weekdays as Loco does (1 = Sunday), crontab as crontab does (1 = Monday)', () => {
  assert.is(iso(parseSchedule('0 0 12 * * 1', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-05T12:00:00.000Z', 'Sunday');
  assert.is(iso(parseSchedule('0 0 12 * * SUN', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-05T12:00:00.000Z');
  assert.is(iso(parseSchedule('0 12 * * 1', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-06T12:00:00.000Z', 'Monday');
  assert.is(iso(parseSchedule('0 12 * * 0', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-05T12:00:00.000Z', 'Sunday');
  // With seconds both day fields must match, as in Loco; crontab takes either.
  assert.is(iso(parseSchedule('0 0 0 13 * FRI', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-06-13T00:00:00.000Z');
  assert.is(iso(parseSchedule('0 0 13 * FRI', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-03T00:00:00.000Z');
  assert.is(iso(parseSchedule('@daily', 'UTC', NEW_YEAR).next(NEW_YEAR)), '2025-01-02T00:00:00.000Z');
});

test('English schedules run on the cron they mean; times are read in the job timezone', () => {
  const daily = parseSchedule('every day at 10:00 am', 'UTC', NEW_YEAR);
  assert.is(daily.cron, '0 0 10 * * *');
  assert.is(daily.text, 'every day at 10:00 am');
  assert.is(iso(daily.next(NEW_YEAR)), '2025-01-01T10:00:00.000Z');
  const paris = parseSchedule('at 10:00 am', 'Europe/Paris', NEW_YEAR);
  assert.is(iso(paris.next(NEW_YEAR)), '2025-01-01T09:00:00.000Z', 'winter: UTC+1');
  assert.is(iso(paris.next(at('2025-07-01T00:00:00Z'))), '2025-07-01T08:00:00.000Z', 'summer: UTC+2');
  const york = parseSchedule('0 9 * * *', 'America/New_York', NEW_YEAR);
  assert.is(iso(york.next(NEW_YEAR)), '2025-01-01T14:00:00.000Z');
});

test('previous: the latest time at or before a moment', () => {
  const every15 = parseSchedule('every 15 seconds', 'UTC', NEW_YEAR);
  assert.is(iso(every15.previous(at('2025-01-01T00:00:15Z'))), '2025-01-01T00:00:15.000Z');
  assert.is(iso(every15.previous(at('2025-01-01T00:00:29.999Z'))), '2025-01-01T00:00:15.000Z');
  assert.is(iso(every15.next(at('2025-01-01T00:00:15Z'))), '2025-01-01T00:00:30.000Z', 'next is strictly after');
});

test('refused: unreadable text, 30 February, a year gone by, an unknown timezone, weekday 0 with seconds', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['every 15 secnds', 'UTC', /cannot read 'every 15 secnds' as English: .*'secnds'/],
    ['0 0 0 30 2 *', 'UTC', /'0 0 0 30 2 \*' never fires: .*30 February/],
    ['0 0 30 2 *', 'UTC', /never fires/],
    ['0 0 0 1 1 * 2020', 'UTC', /never fires/],
    ['every day in 2020', 'UTC', /'every day in 2020' \(cron 0 0 0 \* \* \* 2020\) never fires/],
    ['61 * * * * *', 'UTC', /cannot read '61 \* \* \* \* \*' as cron: .*second/],
    ['0 0 12 * * 0', 'UTC', /day-of-week 0 is not a day in cron with seconds: .* 1 \(Sunday\) to 7 \(Saturday\)/],
    ['every day', 'Mars/Olympus', /timezone 'Mars\/Olympus' is not an IANA timezone/],
  ];
  for (const [text, zone, message] of refused) {
    assert.throws(
      () => parseSchedule(text, zone, NEW_YEAR),
      (err: Error) => err instanceof ScheduleError && message.test(err.message),
      `${text}: ${(() => {
        try {
          parseSchedule(text, zone, NEW_YEAR);
          return 'accepted';
        } catch (err) {
          return (err as Error).message;
        }
      })()}`,
    );
  }
});

test('cron or English: cron is 5 to 7 fields starting with digits or *, or an @nickname', () => {
  assert.ok(looksLikeCron('* 2 * * * *'));
  assert.ok(looksLikeCron('0/15 * * * * ? *'));
  assert.ok(looksLikeCron('@hourly'));
  assert.not.ok(looksLikeCron('7pm every Thursday'), 'starts with a digit, yet English');
  assert.not.ok(looksLikeCron('run every 1 second'));
  assert.not.ok(looksLikeCron('10:00'));
});

test.run();
