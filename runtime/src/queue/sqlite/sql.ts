/**
 * SQL of the SQLite backend, one statement per operation. Times are ms since the epoch;
 * `task_data` and `tags` are JSON text.
 */

/** Migrations, applied in order; `PRAGMA user_version` records how many ran. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE loco_jobs (
     id           TEXT PRIMARY KEY,
     name         TEXT NOT NULL,
     task_data    TEXT NOT NULL,
     status       TEXT NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
     run_at       INTEGER NOT NULL,
     interval     INTEGER,
     tags         TEXT NOT NULL DEFAULT '[]',
     queue        TEXT,
     attempts     INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL DEFAULT 1,
     last_error   TEXT,
     lease_until  INTEGER,
     created_at   INTEGER NOT NULL,
     updated_at   INTEGER NOT NULL
   );
   -- serves the claim: WHERE status = 'queued' AND run_at <= ? ORDER BY run_at, id
   CREATE INDEX loco_jobs_claim ON loco_jobs (run_at, id) WHERE status = 'queued';
   -- serves the reaper: WHERE status = 'processing' AND lease_until < ?
   CREATE INDEX loco_jobs_lease ON loco_jobs (lease_until) WHERE status = 'processing';
   CREATE INDEX loco_jobs_name_status ON loco_jobs (name, status);`,
  // The scheduler's claimed ticks: one row per schedule and scheduled time, kept until expires_at.
  `CREATE TABLE loco_schedule_ticks (
     schedule   TEXT NOT NULL,
     tick_at    INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (schedule, tick_at)
   ) WITHOUT ROWID;
   CREATE INDEX loco_schedule_ticks_expiry ON loco_schedule_ticks (expires_at);`,
];

export const enqueueJob = `
  INSERT INTO loco_jobs (id, name, task_data, status, run_at, interval, tags, queue, max_attempts, created_at, updated_at)
  VALUES (@id, @name, @task_data, 'queued', @run_at, @interval, @tags, @queue, @max_attempts, @created_at, @updated_at)`;

const CLAIM_TAGS = {
  untagged: `AND tags = '[]'`,
  matching: `AND EXISTS (SELECT 1 FROM json_each(loco_jobs.tags) AS t WHERE t.value IN (SELECT value FROM json_each(@tags)))`,
  any: '',
};

/**
 * Claims due jobs of the given names atomically (one statement takes the write lock first).
 * `+name` keeps the planner off the (name, status) index, which without statistics it would
 * prefer, sorting every queued job on each claim; the claim index serves WHERE and ORDER BY.
 */
export function claimJobs(tags: keyof typeof CLAIM_TAGS): string {
  return `
  UPDATE loco_jobs
     SET status = 'processing', attempts = attempts + 1, lease_until = @lease_until, updated_at = @now
   WHERE id IN (
     SELECT id FROM loco_jobs
      WHERE status = 'queued' AND run_at <= @now
        AND +name IN (SELECT value FROM json_each(@names))
        ${CLAIM_TAGS[tags]}
      ORDER BY run_at, id
      LIMIT @limit)
  RETURNING id, name, task_data, interval, tags, queue, attempts, max_attempts, run_at`;
}

/**
 * Applies one outcome (`queue/outcome.ts`), fenced: only while the job is still `processing` with
 * the attempts it was claimed with. `@run_at` null keeps the job's; `@keep_error` 1 keeps its
 * `last_error`, otherwise it becomes `@error`.
 */
export const finishJob = `
  UPDATE loco_jobs
     SET status = @status, run_at = COALESCE(@run_at, run_at), attempts = @next_attempts,
         last_error = CASE WHEN @keep_error THEN last_error ELSE @error END,
         lease_until = NULL, updated_at = @now
   WHERE id = @id AND status = 'processing' AND attempts = @attempts`;

export const heartbeatJobs = `
  UPDATE loco_jobs SET lease_until = @lease_until
   WHERE status = 'processing' AND id IN (SELECT value FROM json_each(@ids))`;

export const reapExpiredJobs = `
  UPDATE loco_jobs
     SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
         last_error = CASE WHEN attempts < max_attempts THEN last_error ELSE @error END,
         run_at = @now, lease_until = NULL, updated_at = @now
   WHERE status = 'processing' AND lease_until < @now`;

export const listJobs = `
  SELECT * FROM loco_jobs
   WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
     AND (@name IS NULL OR name = @name)
     AND (@updated_before IS NULL OR updated_at < @updated_before)`;

export const jobStats = `SELECT name, status, COUNT(*) AS count FROM loco_jobs GROUP BY name, status ORDER BY name, status`;

export const cancelJobs = `
  UPDATE loco_jobs SET status = 'cancelled', updated_at = @now WHERE status = 'queued' AND name = @name`;

export const removeJobs = `
  DELETE FROM loco_jobs
   WHERE status IN (SELECT value FROM json_each(@statuses))
     AND (@updated_before IS NULL OR updated_at < @updated_before)
     AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))`;

export const requeueStale = `
  UPDATE loco_jobs SET status = 'queued', lease_until = NULL, run_at = @now, updated_at = @now
   WHERE status = 'processing' AND updated_at <= @updated_before`;

export const flushJobs = `DELETE FROM loco_jobs`;

/** Deletes tick claims past their hold (served by the expiry index). */
export const pruneTicks = `DELETE FROM loco_schedule_ticks WHERE expires_at <= @now`;

/** Claims a tick; a row already there (another claim) leaves `changes` at 0. */
export const claimTick = `
  INSERT INTO loco_schedule_ticks (schedule, tick_at, expires_at) VALUES (@schedule, @tick_at, @expires_at)
  ON CONFLICT DO NOTHING`;
