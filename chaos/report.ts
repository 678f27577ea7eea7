/** The drill's tables: one per drill as it ends, and a summary of all of them at the end. */
import type { DrillResult } from './drills.js';

/** Whether a drill passed: nothing lost or stuck, no worker exit or hang, every check ok. */
export function passed(result: DrillResult): boolean {
  const { lost, stuck } = result.tally;
  return (
    lost === 0 &&
    stuck === 0 &&
    result.unexpectedExits.length === 0 &&
    result.hung === 0 &&
    result.checks.every((c) => c.ok)
  );
}

const HEADER = [
  'store',
  'drill',
  'enqueued',
  'completed',
  'runs (duplicates)',
  'lost',
  'stuck',
  'kills',
  'worker exits',
  'hung',
  's',
  'result',
];

function row(store: string, drill: string, result: DrillResult): string[] {
  const t = result.tally;
  return [
    store,
    drill,
    String(t.enqueued),
    String(t.completed),
    `${t.runs} (${t.duplicates})`,
    String(t.lost),
    String(t.stuck),
    String(result.kills),
    String(result.unexpectedExits.length),
    String(result.hung),
    String(result.seconds),
    passed(result) ? 'ok' : 'FAIL',
  ];
}

/** A Markdown table, columns padded so it reads in a terminal too. */
function table(rows: string[][]): string {
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** One finished drill: its title, its table, then its checks and any worker exit. */
export function printDrill(store: string, drill: string, result: DrillResult): void {
  console.log(`\n${store}, drill ${drill}: ${result.title}`);
  console.log(table([HEADER, row(store, drill, result)]));
  for (const check of result.checks) console.log(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.what}: ${check.detail}`);
  for (const exit of result.unexpectedExits) console.log(`  FAIL a worker exited by itself: ${exit}`);
}

/** Every drill's row in one table. */
export function printSummary(results: Array<{ store: string; drill: string; result: DrillResult }>): void {
  console.log('\nAll drills:');
  console.log(table([HEADER, ...results.map((r) => row(r.store, r.drill, r.result))]));
}
