import type { ScheduledJob } from './config.js';
import { describeAction, formatTick } from './output.js';

/**
 * `loco scheduler --list`: Loco's table (job, run_on_start, schedule, tags, run), sorted by name,
 * with the cron an English schedule means, the timezone when it is not UTC, and the next `count`
 * times of each job after `now`.
 */
export function formatJobList(jobs: ScheduledJob[], now: number, count = 3): string {
  const sorted = [...jobs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = sorted.map((job, index) => {
    const { schedule } = job;
    const cron = schedule.cron === schedule.text ? '' : ` (${schedule.cron})`;
    const zone = schedule.timezone === 'UTC' ? '' : ` ${schedule.timezone}`;
    return {
      cells: [
        String(index + 1),
        job.name,
        String(job.runOnStart),
        `${schedule.text}${cron}${zone}`,
        job.tags.join(', ') || '-',
        describeAction(job.action),
      ],
      next: schedule.upcoming(count, now).map(formatTick).join(', ') || 'none',
    };
  });
  const header = ['#', 'job_name', 'run_on_start', 'schedule', 'tags', 'run'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row.cells[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  const indent = ' '.repeat(widths[0] + 2);
  return [line(header), ...rows.flatMap((row) => [line(row.cells), `${indent}next: ${row.next}`])].join('\n');
}
