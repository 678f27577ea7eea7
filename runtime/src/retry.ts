/** How a failed job is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means no retry. (Default: 3) */
  attempts: number;
  /** Delay before the first retry in ms; doubled for each further one. (Default: 1000) */
  backoffMs: number;
  /** Longest delay between attempts in ms. (Default: 3_600_000) */
  maxBackoffMs: number;
}

/** The retry policy of a worker that does not declare one. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1000, maxBackoffMs: 3_600_000 };

/** The delay before retry number `attempt` (1-based): exponential, capped, with equal jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
