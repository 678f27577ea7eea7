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
  // Priorities and unique keys. The claim index now orders by priority first.
  `ALTER TABLE loco_jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE loco_jobs ADD COLUMN unique_key TEXT;
   DROP INDEX loco_jobs_claim;
   -- serves the claim: WHERE status = 'queued' AND run_at <= ? ORDER BY priority DESC, run_at, id
   CREATE INDEX loco_jobs_claim ON loco_jobs (priority DESC, run_at, id) WHERE status = 'queued';
   -- one live job per name and key; enqueue looks a key up through it
   CREATE UNIQUE INDEX loco_jobs_unique_key ON loco_jobs (name, unique_key)
     WHERE unique_key IS NOT NULL AND status IN ('queued', 'processing');`,
  // The scheduler's claimed ticks: one row per schedule and scheduled time, kept until expires_at.
  `CREATE TABLE loco_schedule_ticks (
     schedule   TEXT NOT NULL,
     tick_at    INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (schedule, tick_at)
   ) WITHOUT ROWID;
   CREATE INDEX loco_schedule_ticks_expiry ON loco_schedule_ticks (expires_at);`,
  // Flow control: the claim goes name by name (names lead the claim index), jobs carry their
  // concurrency key, running jobs are counted by name and key, starts are logged for rate
  // limits, and pauses are stored.
  `ALTER TABLE loco_jobs ADD COLUMN concurrency_key TEXT;
   DROP INDEX loco_jobs_claim;
   -- serves the claim, one name at a time: WHERE status = 'queued' AND name = ? AND run_at <= ?
   -- ORDER BY priority DESC, run_at, id
   CREATE INDEX loco_jobs_claim ON loco_jobs (name, priority DESC, run_at, id) WHERE status = 'queued';
   -- counts running jobs for concurrency limits
   CREATE INDEX loco_jobs_running ON loco_jobs (name, concurrency_key) WHERE status = 'processing';
   CREATE TABLE loco_job_starts (name TEXT NOT NULL, started_at INTEGER NOT NULL);
   CREATE INDEX loco_job_starts_name ON loco_job_starts (name, started_at);
   CREATE TABLE loco_pauses (
     kind      TEXT NOT NULL CHECK (kind IN ('worker', 'queue')),
     name      TEXT NOT NULL,
     paused_at INTEGER NOT NULL,
     PRIMARY KEY (kind, name)
   ) WITHOUT ROWID;`,
  // The claim index split by tagged and untagged jobs, so that a process never walks past jobs of
  // the other kind (an untagged process reads nothing of a backlog of tagged jobs).
  `DROP INDEX loco_jobs_claim;
   -- serve the claim, one name at a time: WHERE status = 'queued' AND name = ? AND run_at <= ?
   -- ORDER BY priority DESC, run_at, id
   CREATE INDEX loco_jobs_claim ON loco_jobs (name, priority DESC, run_at, id)
     WHERE status = 'queued' AND tags = '[]';
   CREATE INDEX loco_jobs_claim_tagged ON loco_jobs (name, priority DESC, run_at, id)
     WHERE status = 'queued' AND tags <> '[]';`,
  // The W3C trace context of the span that enqueued a job, which its runs' spans link to.
  `ALTER TABLE loco_jobs ADD COLUMN traceparent TEXT;`,
  // One index over the running jobs instead of two: each job's claim and outcome now write one
  // entry, not two. Only \`processing\` jobs are in it (the slots of every worker process), so the
  // reaper (lease_until < ?) and the stale-job requeue read all of it at little cost; the
  // concurrency count reads one name's entries.
  `DROP INDEX loco_jobs_lease;
   DROP INDEX loco_jobs_running;
   CREATE INDEX loco_jobs_processing ON loco_jobs (name, concurrency_key, lease_until) WHERE status = 'processing';`,
];

/**
 * The columns an enqueue writes, in the order `enqueueJobs` binds them. Hot statements bind by
 * position: better-sqlite3 binds an array about 20% faster than named parameters, which is a
 * fifth of an insert's cost.
 */
export const ENQUEUE_COLUMNS = [
  'id',
  'name',
  'task_data',
  'status',
  'run_at',
  'interval',
  'tags',
  'queue',
  'priority',
  'unique_key',
  'concurrency_key',
  'attempts',
  'max_attempts',
  'last_error',
  'created_at',
  'updated_at',
  'traceparent',
] as const;

/** Inserts `rows` jobs, each with the values of ENQUEUE_COLUMNS in order. */
export function enqueueJobs(rows: number): string {
  const row = `(${ENQUEUE_COLUMNS.map(() => '?').join(', ')})`;
  return `
  INSERT INTO loco_jobs (${ENQUEUE_COLUMNS.join(', ')})
  VALUES ${Array(rows).fill(row).join(',\n         ')}`;
}

/**
 * Rows per multi-row insert of a batch: one statement for 50 rows writes about half again as
 * many rows a second as one statement per row (850 bound values, far below SQLite's limit).
 */
export const ENQUEUE_ROWS = 50;

/** The live job (queued or processing) holding a key. */
export const findKeyHolder = `
  SELECT id, status FROM loco_jobs
   WHERE name = @name AND unique_key = @unique_key AND status IN ('queued', 'processing')`;

/** A processing job gives its key up to a newer job of the same key. */
export const releaseKey = `UPDATE loco_jobs SET unique_key = NULL WHERE id = @id`;

/** `onConflict: 'replace'`: the queued job takes the new args and run time. */
export const replaceQueuedJob = `
  UPDATE loco_jobs SET task_data = @task_data, run_at = @run_at, updated_at = @now
   WHERE id = @id AND status = 'queued'`;

/**
 * The tag rules of the claim, each served by one claim index: `untagged` by `loco_jobs_claim`,
 * `matching` and `tagged` by `loco_jobs_claim_tagged` (the in-process pool, which takes every
 * job, reads `untagged` and then `tagged`).
 */
export const CLAIM_TAGS = {
  untagged: `AND tags = '[]'`,
  tagged: `AND tags <> '[]'`,
  matching: `AND tags <> '[]' AND EXISTS (SELECT 1 FROM json_each(loco_jobs.tags) AS t WHERE t.value IN (SELECT value FROM json_each(@tags)))`,
};

/**
 * The due jobs of one name a process may take, in claim order (higher priority, then run_at,
 * then id): the claim index serves WHERE and ORDER BY. The claim reads each name this way, picks
 * within the limits, and marks what it picked (`startJobs`), in one write transaction. With
 * `queuesPaused`, jobs of the paused queues (`@paused`, JSON) are skipped. `limit` is written into
 * the statement: SQLite plans a literal LIMIT better than a bound one (about 3x faster here).
 */
export function dueJobs(tags: keyof typeof CLAIM_TAGS, limit: number, queuesPaused: boolean): string {
  return `
  SELECT id, name, priority, run_at, concurrency_key
    FROM loco_jobs
   WHERE status = 'queued' AND name = @name AND run_at <= @now
     ${CLAIM_TAGS[tags]}
     ${queuesPaused ? 'AND (queue IS NULL OR queue NOT IN (SELECT value FROM json_each(@paused)))' : ''}
   ORDER BY priority DESC, run_at, id
   LIMIT ${Math.floor(limit)}`;
}

/** The picked jobs become processing under a lease. */
export const startJobs = `
  UPDATE loco_jobs
     SET status = 'processing', attempts = attempts + 1, lease_until = @lease_until, updated_at = @now
   WHERE id IN (SELECT value FROM json_each(@ids)) AND status = 'queued'
  RETURNING id, name, task_data, interval, tags, queue, priority, attempts, max_attempts, run_at, traceparent`;

/** Running jobs of a name by concurrency key. */
export const runningByKey = `
  SELECT concurrency_key AS key, COUNT(*) AS count FROM loco_jobs
   WHERE status = 'processing' AND name = @name GROUP BY concurrency_key`;

/** Starts of a name in the rate window, after the log has been pruned to it. */
export const pruneStarts = `DELETE FROM loco_job_starts WHERE name = @name AND started_at <= @since`;
export const windowStarts = `SELECT started_at FROM loco_job_starts WHERE name = @name ORDER BY started_at`;
export const logStart = `INSERT INTO loco_job_starts (name, started_at) VALUES (@name, @now)`;

export const pausedTargets = `SELECT kind, name FROM loco_pauses ORDER BY kind, name`;
export const pauseTarget = `INSERT OR IGNORE INTO loco_pauses (kind, name, paused_at) VALUES (@kind, @name, @now)`;
export const resumeTarget = `DELETE FROM loco_pauses WHERE kind = @kind AND name = @name`;

/**
 * Applies one outcome (`queue/outcome.ts`), fenced: only while the job is still `processing` with
 * the attempts it was claimed with. Bound by position, in the order the `?`s appear: status,
 * run_at (null keeps the job's), next attempts, keep_error (1 keeps last_error), error, now, id,
 * attempts.
 */
export const finishJob = `
  UPDATE loco_jobs
     SET status = ?, run_at = COALESCE(?, run_at), attempts = ?,
         last_error = CASE WHEN ? THEN last_error ELSE ? END,
         lease_until = NULL, updated_at = ?
   WHERE id = ? AND status = 'processing' AND attempts = ?`;

/**
 * Plain completions (what `finishJob` does for status `completed` with run_at, attempts and
 * last_error kept), many in one statement, fenced as `finishJob` is: one execution for a claim's
 * worth of outcomes costs about a quarter less than one per job. Bound by position: now, then a
 * JSON array of [id, attempts] pairs.
 */
export const completeJobs = `
  UPDATE loco_jobs
     SET status = 'completed', lease_until = NULL, updated_at = ?
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempts FROM json_each(?)) AS done
   WHERE loco_jobs.id = done.id AND loco_jobs.status = 'processing' AND loco_jobs.attempts = done.attempts`;

export const heartbeatJobs = `
  UPDATE loco_jobs SET lease_until = @lease_until
   WHERE status = 'processing' AND id IN (SELECT value FROM json_each(@ids))`;

/**
 * Returns jobs whose lease ran out to the queue at their own place (run_at, priority and order
 * kept), or fails them when no attempts are left; either way `@error` says why.
 */
export const reapExpiredJobs = `
  UPDATE loco_jobs
     SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
         last_error = @error, lease_until = NULL, updated_at = @now
   WHERE status = 'processing' AND lease_until < @now`;

export const listJobs = `
  SELECT * FROM loco_jobs
   WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
     AND (@name IS NULL OR name = @name)
     AND (@updated_before IS NULL OR updated_at < @updated_before)`;

export const jobStats = `SELECT name, status, COUNT(*) AS count FROM loco_jobs GROUP BY name, status ORDER BY name, status`;

export const cancelJobs = `
  UPDATE loco_jobs SET status = 'cancelled', updated_at = @now
   WHERE status = 'queued' AND name = @name AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))`;

export const removeJobs = `
  DELETE FROM loco_jobs
   WHERE status IN (SELECT value FROM json_each(@statuses))
     AND (@updated_before IS NULL OR updated_at < @updated_before)
     AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))`;

/** A job by id. */
export const getJob = `SELECT * FROM loco_jobs WHERE id = @id`;

/**
 * Finished jobs back to the queue, due now, attempts reset, args and last error kept. A job keeps
 * its key unless another live job holds it, or another retried job of the same key comes first.
 */
export const retryJobs = `
  UPDATE loco_jobs AS j
     SET status = 'queued', attempts = 0, run_at = @now, lease_until = NULL, updated_at = @now,
         unique_key = CASE
           WHEN j.unique_key IS NULL THEN NULL
           WHEN EXISTS (SELECT 1 FROM loco_jobs o
                         WHERE o.name = j.name AND o.unique_key = j.unique_key AND o.id <> j.id
                           AND (o.status IN ('queued', 'processing')
                                OR (o.id < j.id AND o.id IN (SELECT id FROM retried)))) THEN NULL
           ELSE j.unique_key END
   WHERE j.id IN (SELECT id FROM retried)`;

/** The jobs \`retryJobs\` takes: \`@statuses\`, and optionally \`@ids\` and \`@name\`. */
export const retriedJobs = `
  WITH retried AS (
    SELECT id FROM loco_jobs
     WHERE status IN (SELECT value FROM json_each(@statuses))
       AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))
       AND (@name IS NULL OR name = @name))`;

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
