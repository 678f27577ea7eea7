import type { ClaimFilter } from './backend.js';

/**
 * Tag rules 1-4 of the Loco page, for backends that filter in JavaScript:
 * a process without tags takes only untagged jobs; a process with tags takes only jobs with at
 * least one of them; matching is exact and case-sensitive.
 */
export function tagsMatch(filter: ClaimFilter, jobTags: readonly string[]): boolean {
  if (filter.anyTag) return true;
  if (filter.tags.length === 0) return jobTags.length === 0;
  return jobTags.some((tag) => filter.tags.includes(tag));
}
