/**
 * Several rounds of the same run, folded into one result per system and scenario: the round
 * whose figure (jobs/s, or latency p50) is the median, with every round's figure beside it.
 */
import type { Results } from './report.js';
import type { Result } from './scenarios.js';

/** The figure rounds are ranked by; undefined for a result that is not `ok`. */
function figure(scenario: string, r: Result): number | undefined {
  if (r.status !== 'ok') return undefined;
  const value = scenario === 'latency' ? r.p50_ms : r.jobs_per_s;
  return typeof value === 'number' ? value : undefined;
}

/** What a round shows in `round_figures`: its figure, or its status. */
function label(scenario: string, r: Result): number | string {
  return figure(scenario, r) ?? r.status;
}

/** The median round among the `ok` ones (the lower middle for an even count), else the last round. */
function pick(scenario: string, results: Result[]): Result {
  const ok = results.filter((r) => figure(scenario, r) !== undefined);
  if (ok.length === 0) return results[results.length - 1];
  ok.sort((a, b) => figure(scenario, a)! - figure(scenario, b)!);
  return ok[Math.ceil(ok.length / 2) - 1];
}

/** Folds rounds into one `Results`; with one round, returns it unchanged. */
export function mergeRounds(rounds: Results[]): Results {
  if (rounds.length === 1) return rounds[0];
  const out: Results = {};
  for (const system of new Set(rounds.flatMap((r) => Object.keys(r)))) {
    out[system] = {};
    for (const scenario of new Set(rounds.flatMap((r) => Object.keys(r[system] ?? {})))) {
      const results = rounds.map((r) => r[system]?.[scenario]).filter((r): r is Result => r !== undefined);
      out[system][scenario] = { ...pick(scenario, results), round_figures: results.map((r) => label(scenario, r)) };
    }
  }
  return out;
}
