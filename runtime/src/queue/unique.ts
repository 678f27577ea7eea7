/**
 * Unique keys, stated once for every store: jobs of one enqueue call that share a name and key
 * are one job (the first one's id; with `replace`, the last one's args and run time), so a store
 * only ever sees one job per key in a call.
 */
import type { EnqueueResult, NewJob, OnConflict } from './backend.js';

/** The jobs of a call with duplicate keys folded, and how to map the store's answers back. */
export interface FoldedJobs {
  /** At most one job per name and key, in the order of their first appearance. */
  jobs: NewJob[];
  /** For each job given: the index of its job in `jobs`, and whether it was that job's first appearance. */
  sources: Array<{ index: number; first: boolean }>;
}

/** Folds jobs that share a name and key into one, following `onConflict`. */
export function foldKeys(jobs: NewJob[], onConflict: OnConflict): FoldedJobs {
  const folded: NewJob[] = [];
  const byKey = new Map<string, number>();
  const sources = jobs.map((job) => {
    if (job.key === null) {
      folded.push(job);
      return { index: folded.length - 1, first: true };
    }
    const id = `${job.name}\0${job.key}`;
    const index = byKey.get(id);
    if (index === undefined) {
      byKey.set(id, folded.length);
      folded.push(job);
      return { index: folded.length - 1, first: true };
    }
    if (onConflict === 'replace') folded[index] = { ...folded[index], task_data: job.task_data, run_at: job.run_at };
    return { index, first: false };
  });
  return { jobs: folded, sources };
}

/** The store's answers for the folded jobs, spread back over the jobs as given. */
export function unfoldResults(folded: FoldedJobs, results: EnqueueResult[]): EnqueueResult[] {
  return folded.sources.map(({ index, first }) => ({ id: results[index].id, added: first && results[index].added }));
}
