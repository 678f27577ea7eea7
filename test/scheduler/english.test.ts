// Loco's English schedules: each accepted phrase and the cron it means (Loco's own examples
// first), and the phrases refused with the word that could not be placed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EnglishScheduleError, englishToCron } from '../../runtime/src/scheduler/english.js';

const MEANINGS: Array<[string, string]> = [
  // The examples of Loco's scheduler page and of its english-to-cron library.
  ['every 15 seconds', '*/15 * * * * *'],
  ['run every 1 second', '* * * * * *'],
  ['run every minute', '0 * * * * *'],
  ['fire every day at 4:00 pm', '0 0 16 * * *'],
  ['at 10:00 am', '0 0 10 * * *'],
  ['run at midnight on the 1st and 15th of the month', '0 0 0 1,15 * *'],
  ['On Sunday at 12:00', '0 0 12 * * SUN'],
  ['7pm every Thursday', '0 0 19 * * THU'],
  ['midnight on Tuesdays', '0 0 0 * * TUE'],
  ['every 24 hours', '0 0 */24 * * *'],
  // More of the same grammar.
  ['every 5 minutes', '0 */5 * * * *'],
  ['Run every 3 hours', '0 0 */3 * * *'],
  ['every day', '0 0 0 * * *'],
  ['every 2 days at 4:30 pm', '0 30 16 */2 * *'],
  ['every day at 10:00 am', '0 0 10 * * *'],
  ['Run at 12:15 pm', '0 15 12 * * *'],
  ['at 12 am', '0 0 0 * * *'],
  ['at 16:30', '0 30 16 * * *'],
  ['Run at 5:15am every Tuesday', '0 15 5 * * TUE'],
  ['Run at noon every Sunday', '0 0 12 * * SUN'],
  ['Run at 6:00 pm every Monday through Friday', '0 0 18 * * MON,TUE,WED,THU,FRI'],
  ['Every 2 seconds, only on thursday', '*/2 * * * * THU'],
  ['Run every 2 second on Monday thursday', '*/2 * * * * MON,THU'],
  ['Run every 10 seconds Monday through thursday between 6:00 am and 8:00 pm', '*/10 * 6-20 * * MON,TUE,WED,THU'],
  ['Run every 5 minutes Monday through Thursday between 6:00 am and 9:00 am', '0 */5 6-9 * * MON,TUE,WED,THU'],
  ['Run every 1 hour only on weekends', '0 0 * * * SUN,SAT'],
  ['every 2 hours on weekdays', '0 0 */2 * * MON,TUE,WED,THU,FRI'],
  ['every 5 second on september', '*/5 * * * SEP *'],
  ['Run every day from January to March', '0 0 0 * JAN,FEB,MAR *'],
  ['Run every 2nd day of the month', '0 0 0 2 * *'],
  ['every saturday', '0 0 0 * * SAT'],
  ['friday through monday at 8 am', '0 0 8 * * SUN,MON,FRI,SAT'],
  ['every day in 2031', '0 0 0 * * * 2031'],
];

test('each phrase means the cron Loco runs it on', () => {
  for (const [phrase, cron] of MEANINGS) assert.is(englishToCron(phrase), cron, phrase);
});

test('refused phrases name the word or the clash', () => {
  const refused: Array<[string, RegExp]> = [
    ['every 15 secnds', /'every' must be followed by .* found 'secnds'/],
    ['every 5 minutes at 10:00', /'at' fixes the hour and minute/],
    ['at 25:00', /hours go from 0 to 23/],
    ['at 13 pm', /with am or pm the hour goes from 1 to 12/],
    ['at 10:75', /minutes go from 00 to 59/],
    ['every 90 seconds', /the number goes from 1 to 60 for seconds/],
    ['every 0 minutes', /the number goes from 1 to 60/],
    ['every day at 10:00 at 11:00', /two times of day/],
    ['Run every 6 hours, starting at 1:00 pm', /cannot place the word 'starting'/],
    ['whenever you like', /cannot place the word 'whenever'/],
    ['on the', /says nothing about when to run/],
    ['every day between 6 am and 8 am', /'between' limits the hours of 'every N seconds, minutes or hours' only/],
    ['every minute between 9 pm and 6 am', /the first time must come first/],
    ['on the 32nd', /days of the month go from 1 to 31/],
  ];
  for (const [phrase, message] of refused) {
    assert.throws(
      () => englishToCron(phrase),
      (err: Error) => err instanceof EnglishScheduleError && message.test(err.message),
      phrase,
    );
  }
});

test.run();
