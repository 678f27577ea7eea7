/**
 * The order in which due jobs are claimed, on every store: higher priority first, then the
 * earlier run_at, then enqueue order (ids sort in enqueue order).
 */
/** What claim order reads of a job. */
export interface ClaimOrdered {
  priority: number;
  run_at: number;
  id: string;
}

/** Compares two jobs in claim order, for stores whose claim returns rows unordered. */
export function claimOrder(a: ClaimOrdered, b: ClaimOrdered): number {
  return b.priority - a.priority || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
