// `loco scheduler --list`: Loco's columns, sorted by name, with each job's next three times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { readSchedulerSection } from '../../runtime/src/scheduler/config.js';
import { formatJobList } from '../../runtime/src/scheduler/list.js';

test('one row per job, then its next three times', () => {
  const now = Date.parse('2030-06-01T09:59:58.500Z');
  const jobs = readSchedulerSection(
    parse(`
jobs:
  write_content:
    shell: true
    run: "echo loco >> ./scheduler.txt"
    schedule: run every 1 second
    tags: ["base", "infra"]
  run_task:
    run: "foo year:2024"
    schedule: "at 10:00 am"
    timezone: Europe/Paris
    run_on_start: true
`),
    'config/scheduler.yaml',
    '',
    now,
  );
  assert.is(
    formatJobList(jobs, now),
    [
      '#  job_name       run_on_start  schedule                                 tags         run',
      '1  run_task       true          at 10:00 am (0 0 10 * * *) Europe/Paris  -            task foo year:2024',
      '   next: 2030-06-02T08:00:00Z, 2030-06-03T08:00:00Z, 2030-06-04T08:00:00Z',
      '2  write_content  false         run every 1 second (* * * * * *)         base, infra  shell: echo loco >> ./scheduler.txt',
      '   next: 2030-06-01T09:59:59Z, 2030-06-01T10:00:00Z, 2030-06-01T10:00:01Z',
    ].join('\n'),
  );
});

test.run();
