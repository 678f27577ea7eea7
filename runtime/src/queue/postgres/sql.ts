/**
 * SQL of the Postgres backend, one statement builder per operation, each taking the names of
 * the queue's schema objects. Times are ms since the epoch in `bigint` columns; `tags` is `text[]`;
 * `task_data` is `json`, which keeps the args as written (key order, `\u0000` in strings) and
 * costs only a syntax check on insert.
 */

/** The quoted names one queue lives under; everything the backend creates is in its own schema. */
export interface SqlNames {
  /** `"schema"` */
  schema: string;
  /** `"schema".loco_jobs` */
  jobs: string;
  /** `"schema".loco_queue_migrations` */
  migrations: string;
  /** `"schema".loco_schedule_ticks` */
  ticks: string;
  /** `"schema".loco_pauses` */
  pauses: string;
  /** `"schema".loco_job_starts` */
  starts: string;
  /** The NOTIFY channel: `loco:` + the schema name. */
  channel: string;
}

/** Quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The names of a queue in `schema`. */
export function sqlNames(schema: string): SqlNames {
  const quoted = quoteIdent(schema);
  return {
    schema: quoted,
    jobs: `${quoted}.loco_jobs`,
    migrations: `${quoted}.loco_queue_migrations`,
    ticks: `${quoted}.loco_schedule_ticks`,
    pauses: `${quoted}.loco_pauses`,
    starts: `${quoted}.loco_job_starts`,
    channel: `loco:${schema}`,
  };
}

/** One schema change; `version` numbers run from 1 without gaps and are never reused. */
export interface Migration {
  version: number;
  name: string;
  sql(names: SqlNames): string;
}

/**
 * Every migration, in order. Append new ones; never edit one that has shipped. The claim
 * function is built by `claimFunction`, which always gives its latest form: a migration that
 * changes it runs `claimFunction` again (it replaces the function).
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'create loco_jobs and loco_claim_jobs',
    sql: (t) => `
      CREATE TABLE ${t.jobs} (
        id           text COLLATE "C" PRIMARY KEY,
        name         text COLLATE "C" NOT NULL,
        task_data    json NOT NULL,
        status       text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
        run_at       bigint NOT NULL,
        "interval"   bigint,
        tags         text[] COLLATE "C" NOT NULL DEFAULT '{}',
        queue        text,
        attempts     integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 1,
        last_error   text,
        lease_until  bigint,
        created_at   bigint NOT NULL,
        updated_at   bigint NOT NULL
      );
      -- serves the claim: WHERE status = 'queued' AND run_at <= $now ... ORDER BY run_at, id
      CREATE INDEX loco_jobs_claim ON ${t.jobs} (run_at, id) WHERE status = 'queued';
      -- serves the reaper: lease_until < $now (only processing jobs have a lease). Its predicate
      -- is not on status, so finishing and heartbeats, which name status = 'processing' and ids,
      -- go by the primary key instead of scanning every running job.
      CREATE INDEX loco_jobs_lease ON ${t.jobs} (lease_until) WHERE lease_until IS NOT NULL;
      ${claimFunction(t)}`,
  },
  {
    version: 2,
    name: 'priorities and unique keys',
    sql: (t) => `
      ALTER TABLE ${t.jobs}
        ADD COLUMN priority integer NOT NULL DEFAULT 0,
        ADD COLUMN unique_key text COLLATE "C";
      DROP INDEX ${t.schema}.loco_jobs_claim;
      -- serves the claim: WHERE status = 'queued' AND run_at <= $now ... ORDER BY priority DESC, run_at, id
      CREATE INDEX loco_jobs_claim ON ${t.jobs} (priority DESC, run_at, id) WHERE status = 'queued';
      -- one live job per name and key; enqueue's ON CONFLICT arbitrates through it
      CREATE UNIQUE INDEX loco_jobs_unique_key ON ${t.jobs} (name, unique_key)
        WHERE unique_key IS NOT NULL AND status IN ('queued', 'processing');
      DROP FUNCTION IF EXISTS ${t.schema}.loco_claim_jobs(bigint, bigint, text[], integer, text[], text);
      ${claimFunction(t)}`,
  },
  {
    version: 3,
    name: 'create loco_schedule_ticks',
    sql: (t) => `
      -- The scheduler's claimed ticks: one row per schedule and scheduled time, kept until expires_at.
      CREATE TABLE ${t.ticks} (
        schedule   text COLLATE "C" NOT NULL,
        tick_at    bigint NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (schedule, tick_at)
      );
      CREATE INDEX loco_schedule_ticks_expiry ON ${t.ticks} (expires_at);`,
  },
  {
    version: 4,
    name: 'flow control: concurrency keys, job starts, pauses, a claim by name',
    sql: (t) => `
      ALTER TABLE ${t.jobs} ADD COLUMN concurrency_key text COLLATE "C";
      DROP INDEX ${t.schema}.loco_jobs_claim;
      -- serves the claim, one name at a time: WHERE status = 'queued' AND name = $name AND run_at <= $now
      -- ORDER BY priority DESC, run_at, id
      CREATE INDEX loco_jobs_claim ON ${t.jobs} (name, priority DESC, run_at, id) WHERE status = 'queued';
      -- counts running jobs for concurrency limits
      CREATE INDEX loco_jobs_running ON ${t.jobs} (name, concurrency_key) WHERE status = 'processing';
      -- job starts within the rate windows of rate-limited names
      CREATE TABLE ${t.starts} (name text COLLATE "C" NOT NULL, started_at bigint NOT NULL);
      CREATE INDEX loco_job_starts_name ON ${t.starts} (name, started_at);
      CREATE TABLE ${t.pauses} (
        kind      text NOT NULL CHECK (kind IN ('worker', 'queue')),
        name      text COLLATE "C" NOT NULL,
        paused_at bigint NOT NULL,
        PRIMARY KEY (kind, name)
      );
      DROP FUNCTION IF EXISTS ${t.schema}.loco_claim_jobs(bigint, bigint, text[], integer, text[], text);
      ${claimFunction(t)}`,
  },
  {
    version: 5,
    name: 'claim index split by tagged and untagged jobs',
    sql: (t) => `
      DROP INDEX ${t.schema}.loco_jobs_claim;
      -- serve the claim, one name at a time, each for the processes that take such jobs: WHERE
      -- status = 'queued' AND name = $name AND run_at <= $now ORDER BY priority DESC, run_at, id
      CREATE INDEX loco_jobs_claim ON ${t.jobs} (name, priority DESC, run_at, id)
        WHERE status = 'queued' AND tags = '{}';
      CREATE INDEX loco_jobs_claim_tagged ON ${t.jobs} (name, priority DESC, run_at, id)
        WHERE status = 'queued' AND tags <> '{}';`,
  },
  {
    version: 6,
    name: 'trace context: the traceparent of the span that enqueued a job',
    sql: (t) => `
      ALTER TABLE ${t.jobs} ADD COLUMN traceparent text;
      -- the claim returns it: a new result type, so the function is made again (walking the
      -- claim indexes of migration 5)
      DROP FUNCTION IF EXISTS ${t.schema}.loco_claim_jobs(bigint, bigint, text[], integer, text[], text, json);
      ${claimFunction(t)}`,
  },
];

/** Serialises concurrent boots on one schema for the length of the transaction. */
export const lockMigrations = `SELECT pg_advisory_xact_lock(hashtext('loco-ts migrations'), hashtext($1))`;

export const schemaExists = `SELECT 1 FROM pg_namespace WHERE nspname = $1`;

/** Whether the schema $1 holds a queue (its migrations table). */
export const queueExists = `SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'loco_queue_migrations'`;

export const createSchema = (t: SqlNames) => `CREATE SCHEMA ${t.schema}`;

export const createMigrationsTable = (t: SqlNames) => `
  CREATE TABLE IF NOT EXISTS ${t.migrations} (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

export const appliedVersion = (t: SqlNames) => `SELECT COALESCE(max(version), 0) AS version FROM ${t.migrations}`;

export const recordMigration = (t: SqlNames) => `INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`;

/** One job without a key. */
export const enqueueJob = (t: SqlNames) => `
  INSERT INTO ${t.jobs} (id, name, task_data, run_at, "interval", tags, queue, priority, max_attempts, created_at,
                         concurrency_key, updated_at, traceparent)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;

/**
 * Many jobs without keys in one statement; all or none. Arrays, one element per job: $1 id,
 * $2 name, $3 task_data, $4 run_at, $5 interval, $6 tags (each a JSON array, as `text[][]` needs
 * equal lengths), $7 queue, $8 priority, $9 max_attempts, $10 created_at, $11 concurrency key,
 * $12 traceparent; $13 now.
 */
export const enqueueJobs = (t: SqlNames) => `
  INSERT INTO ${t.jobs} (id, name, task_data, run_at, "interval", tags, queue, priority, max_attempts, created_at,
                         concurrency_key, traceparent, updated_at)
  SELECT j.id, j.name, j.task_data, j.run_at, j."interval", ARRAY(SELECT json_array_elements_text(j.tags)),
         j.queue, j.priority, j.max_attempts, j.created_at, j.concurrency_key, j.traceparent, $13
    FROM unnest($1::text[], $2::text[], $3::json[], $4::bigint[], $5::bigint[], $6::json[], $7::text[],
                $8::integer[], $9::integer[], $10::bigint[], $11::text[], $12::text[])
      AS j(id, name, task_data, run_at, "interval", tags, queue, priority, max_attempts, created_at, concurrency_key,
           traceparent)`;

/** Live-key holders that are `processing` give their key up to the new jobs: $1 names, $2 keys. */
export const releaseKeys = (t: SqlNames) => `
  UPDATE ${t.jobs} SET unique_key = NULL
   WHERE status = 'processing'
     AND (name, unique_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;

/**
 * Jobs with keys, or restored from a dump: inserted unless a queued job of the same name holds
 * the key, which is then kept as it is ($15 false) or takes the new args and run time ($15 true).
 * A row that meets a processing holder (which took a job between \`releaseKeys\` and this) comes
 * back with nothing, and the caller tries it again. Arrays as in \`enqueueJobs\` ($1 to $12), plus
 * $13 key, $14 status, $15 attempts, $16 last_error, $18 updated_at; $17 replace (boolean); $19 now.
 * Returns \`id\`, \`name\` and \`unique_key\` of each row inserted or matched.
 */
export const upsertJobs = (t: SqlNames) => `
  INSERT INTO ${t.jobs} AS j (id, name, task_data, run_at, "interval", tags, queue, priority, max_attempts, created_at,
                              concurrency_key, traceparent, unique_key, status, attempts, last_error, updated_at)
  SELECT n.id, n.name, n.task_data, n.run_at, n."interval", ARRAY(SELECT json_array_elements_text(n.tags)),
         n.queue, n.priority, n.max_attempts, n.created_at, n.concurrency_key, n.traceparent, n.unique_key, n.status,
         n.attempts, n.last_error, COALESCE(n.updated_at, $19)
    FROM unnest($1::text[], $2::text[], $3::json[], $4::bigint[], $5::bigint[], $6::json[], $7::text[],
                $8::integer[], $9::integer[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[],
                $15::integer[], $16::text[], $18::bigint[])
      AS n(id, name, task_data, run_at, "interval", tags, queue, priority, max_attempts, created_at,
           concurrency_key, traceparent, unique_key, status, attempts, last_error, updated_at)
  ON CONFLICT (name, unique_key) WHERE unique_key IS NOT NULL AND status IN ('queued', 'processing')
  DO UPDATE SET task_data = CASE WHEN $17 THEN EXCLUDED.task_data ELSE j.task_data END,
                run_at = CASE WHEN $17 THEN EXCLUDED.run_at ELSE j.run_at END,
                updated_at = CASE WHEN $17 THEN $19 ELSE j.updated_at END
     WHERE j.status = 'queued'
  RETURNING j.id, j.name, j.unique_key`;

/**
 * Lets the statement's transaction commit without waiting for its WAL to reach disk
 * (`SET LOCAL synchronous_commit = off`, inside the statement so it costs no round trip).
 * Used by claims, outcomes and wake-ups only: a server crash can lose the last moments of them,
 * which puts those jobs back in an earlier state (queued, or processing until the lease runs
 * out), so they run again; the at-least-once promise holds. Enqueues and operator verbs always
 * wait.
 */
const ASYNC_COMMIT_CALL = `set_config('synchronous_commit', 'off', true)`;
const ASYNC_COMMIT = `${ASYNC_COMMIT_CALL} AS async_commit`;

const CLAIM_TAGS = {
  /** Rules 1 and 3: a process without tags takes only untagged jobs. */
  untagged: `AND tags = '{}'`,
  /** Rules 2 and 4: at least one tag in common, compared exactly. */
  matching: `AND tags <> '{}' AND tags && $5::text[]`,
  /** The in-process pool takes every job: the untagged walk, then the tagged one (`dueJobsOfName`). */
  any: '',
};

/** Tagged and untagged jobs sit in two claim indexes; each rule walks the one it needs. */
const CLAIM_WALKS: Record<ClaimVariant, string[]> = {
  untagged: [CLAIM_TAGS.untagged],
  matching: [CLAIM_TAGS.matching],
  any: [CLAIM_TAGS.untagged, `AND tags <> '{}'`],
};

/** The claim variants: which jobs a process takes by their tags. */
export type ClaimVariant = keyof typeof CLAIM_TAGS;

/**
 * Due, queued jobs of the names a process may take ($3, paused workers left out), name by name
 * through `loco_jobs_claim`, in claim order (priority, then run_at, then id), skipping rows
 * another claim holds and jobs of paused queues: at most `lookahead` per name. $1 now, $4 limit,
 * $5 tags (used by `matching` only).
 */
const dueByName = (t: SqlNames, variant: ClaimVariant, lookahead: string) => `
  (SELECT w.name FROM unnest($3::text[]) AS w(name)
    WHERE NOT EXISTS (SELECT 1 FROM ${t.pauses} AS p WHERE p.kind = 'worker' AND p.name = w.name)) AS n
  CROSS JOIN LATERAL (${dueJobsOfName(t, variant, 'n.name', lookahead)}) AS c`;

/**
 * The due jobs of one name (`name`, an expression), as the claim reads them: through the claim
 * index of untagged jobs (`loco_jobs_claim`) or of tagged ones (`loco_jobs_claim_tagged`), or
 * both for `any`, in claim order, at most `lookahead` from each, rows held by another claim and
 * jobs of paused queues skipped. A process never walks past jobs of the other kind: an untagged
 * process reads nothing of a backlog of tagged jobs. $1 now, $5 tags (used by `matching` only).
 */
export const dueJobsOfName = (t: SqlNames, variant: ClaimVariant, name: string, lookahead: string) =>
  CLAIM_WALKS[variant]
    .map(
      (tags) => `
    SELECT * FROM (SELECT q.id, q.name, q.concurrency_key, q.priority, q.run_at FROM ${t.jobs} AS q
     WHERE q.status = 'queued' AND q.name = ${name} AND q.run_at <= $1
       ${tags.replaceAll('tags', 'q.tags')}
       AND (q.queue IS NULL OR NOT EXISTS (SELECT 1 FROM ${t.pauses} AS p WHERE p.kind = 'queue' AND p.name = q.queue))
     ORDER BY q.priority DESC, q.run_at, q.id
     LIMIT ${lookahead}
     FOR UPDATE OF q SKIP LOCKED) AS walk`,
    )
    .join('\n    UNION ALL');

const CLAIMED_COLUMNS = `j.id, j.name, j.task_data, j."interval", j.tags, j.queue, j.priority, j.attempts, j.max_attempts, j.run_at, j.traceparent`;

/** The claim without limits: the best `$4` due jobs across the allowed names. */
const plainClaim = (t: SqlNames, variant: ClaimVariant) => `
        RETURN QUERY
        UPDATE ${t.jobs} AS j
           SET status = 'processing', attempts = j.attempts + 1, lease_until = $2, updated_at = $1
         WHERE j.id = ANY(ARRAY(
           SELECT c.id FROM ${dueByName(t, variant, '$4')}
            ORDER BY c.priority DESC, c.run_at, c.id
            LIMIT $4))
        RETURNING ${CLAIMED_COLUMNS};`;

/**
 * The claim with limits ($7, JSON: name -> { concurrency, rate_max, rate_ms }): a name's jobs are
 * taken while starts are left in its rate window (`loco_job_starts`) and, per concurrency key,
 * while fewer than `concurrency` of its jobs with that key are processing; the starts of
 * rate-limited names are logged. A name with a concurrency limit reads 20 times further ahead,
 * since jobs of keys at their limit are passed over.
 */
const limitedClaim = (t: SqlNames, variant: ClaimVariant) => `
        RETURN QUERY
        WITH room AS (
          SELECT l.key AS name, (l.value->>'concurrency')::integer AS concurrency,
                 (l.value->>'rate_max')::integer
                   - (SELECT count(*) FROM ${t.starts} AS s WHERE s.name = l.key)::integer AS rate_room
            FROM json_each($7) AS l
        ), candidates AS (
          SELECT c.*, r.concurrency, r.rate_room,
                 row_number() OVER (PARTITION BY c.name ORDER BY c.priority DESC, c.run_at, c.id) AS name_rank,
                 row_number() OVER (PARTITION BY c.name, c.concurrency_key ORDER BY c.priority DESC, c.run_at, c.id)
                   AS key_rank
            FROM ${dueByName(t, variant, `CASE WHEN $7->n.name->>'concurrency' IS NULL THEN $4 ELSE $4 * 20 END`)}
            LEFT JOIN room AS r ON r.name = c.name
        ), picked AS (
          SELECT p.id FROM candidates AS p
           WHERE (p.rate_room IS NULL OR p.name_rank <= p.rate_room)
             AND (p.concurrency IS NULL OR p.key_rank + (
                   SELECT count(*) FROM ${t.jobs} AS w
                    WHERE w.status = 'processing' AND w.name = p.name
                      AND w.concurrency_key IS NOT DISTINCT FROM p.concurrency_key) <= p.concurrency)
           ORDER BY p.priority DESC, p.run_at, p.id
           LIMIT $4
        ), claimed AS (
          UPDATE ${t.jobs} AS j
             SET status = 'processing', attempts = j.attempts + 1, lease_until = $2, updated_at = $1
           WHERE j.id IN (SELECT picked.id FROM picked)
          RETURNING ${CLAIMED_COLUMNS}
        ), logged AS (
          INSERT INTO ${t.starts} (name, started_at)
          SELECT claimed.name, $1 FROM claimed JOIN room ON room.name = claimed.name WHERE room.rate_room IS NOT NULL
        )
        SELECT * FROM claimed;`;

/**
 * Planner settings of the claim. A Sort is ruled out so that the claim always walks
 * `loco_jobs_claim` in order and stops after `limit` rows per name. Otherwise statistics taken
 * while few jobs were queued (the usual state of a queue table between bursts) make the planner
 * fetch and sort every due job on each claim, and a drain of N jobs costs N^2. The one sort left
 * (of the few rows taken across names) then carries the planner's penalty cost, which would
 * make Postgres JIT-compile every claim (over 100 ms): JIT is off for the claim.
 */
export const CLAIM_PLANNER_SETTINGS = { enable_sort: 'off', enable_incremental_sort: 'off', jit: 'off' } as const;

/**
 * `loco_claim_jobs(now, lease_until, names, max_jobs, tags, tag_rule, limits)`: moves up to
 * `max_jobs` due jobs to `processing` with a lease and returns them. A claim of a name with
 * limits first takes an advisory lock on it, so that the
 * counts it reads hold until it commits. A function so that the planner settings above apply to
 * the claim alone, and so that it can commit without waiting for the disk (see ASYNC_COMMIT); one
 * statement per tag rule, with and without limits, keeps each plan simple.
 */
export function claimFunction(t: SqlNames): string {
  const settings = Object.entries(CLAIM_PLANNER_SETTINGS)
    .map(([name, value]) => `SET ${name} = ${value}`)
    .join(' ');
  const branch = (claim: (t: SqlNames, variant: ClaimVariant) => string) => `
        IF $6 = 'untagged' THEN ${claim(t, 'untagged')}
        ELSIF $6 = 'matching' THEN ${claim(t, 'matching')}
        ELSE ${claim(t, 'any')}
        END IF;`;
  return `
      CREATE OR REPLACE FUNCTION ${t.schema}.loco_claim_jobs(
        bigint, bigint, text[], integer, text[], text, json
      ) RETURNS TABLE (
        id text, name text, task_data json, "interval" bigint, tags text[], queue text, priority integer,
        attempts integer, max_attempts integer, run_at bigint, traceparent text
      ) LANGUAGE plpgsql ${settings} AS $$
      #variable_conflict use_column
      DECLARE
        limited record;
      BEGIN
        PERFORM ${ASYNC_COMMIT_CALL};
        IF $7 IS NULL THEN ${branch(plainClaim)}
          RETURN;
        END IF;
        FOR limited IN SELECT l.key, l.value FROM json_each($7) AS l WHERE l.key = ANY($3) ORDER BY l.key LOOP
          PERFORM pg_advisory_xact_lock(hashtext('loco-claim:${t.schema}'), hashtext(limited.key));
          IF limited.value->>'rate_ms' IS NOT NULL THEN
            DELETE FROM ${t.starts} AS s
             WHERE s.name = limited.key AND s.started_at <= $1 - (limited.value->>'rate_ms')::bigint;
          END IF;
        END LOOP;
        ${branch(limitedClaim)}
      END
      $$;`;
}

/**
 * Claims due jobs in one round trip. $1 now, $2 lease_until, $3 names, $4 limit, $5 tags,
 * $6 tag rule (a `ClaimVariant`), $7 limits (JSON, or null when no name has any).
 */
export const claimJobs = (t: SqlNames) => `
  SELECT id, name, task_data, "interval", tags, queue, priority, attempts, max_attempts, run_at
    FROM ${t.schema}.loco_claim_jobs($1, $2, $3, $4, $5, $6, $7)`;

/**
 * When the earliest rate window without starts left opens again: for each rate-limited name
 * ($1, JSON as in the claim), the start that must leave its window for one more to fit. $2 now.
 */
export const rateReopens = (t: SqlNames) => `
  SELECT min(s.started_at + (l.value->>'rate_ms')::bigint) AS reopens_at
    FROM json_each($1::json) AS l
    JOIN LATERAL (
      SELECT started_at FROM ${t.starts}
       WHERE name = l.key AND started_at > $2 - (l.value->>'rate_ms')::bigint
       ORDER BY started_at DESC OFFSET GREATEST((l.value->>'rate_max')::integer - 1, 0) LIMIT 1
    ) AS s ON true
   WHERE l.value->>'rate_max' IS NOT NULL`;

export const pausedTargets = (t: SqlNames) => `SELECT kind, name FROM ${t.pauses} ORDER BY kind, name`;

/** $1 kind, $2 name, $3 now. */
export const pauseTarget = (t: SqlNames) => `
  INSERT INTO ${t.pauses} (kind, name, paused_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;

/** $1 kind, $2 name. */
export const resumeTarget = (t: SqlNames) => `DELETE FROM ${t.pauses} WHERE kind = $1 AND name = $2`;

/**
 * Applies a batch of outcomes (`queue/outcome.ts`) in one statement (committed without waiting
 * for the disk: see ASYNC_COMMIT). Each row is fenced: it applies only while the job is still
 * `processing` with the attempt it was claimed with.
 * Arrays, one element per outcome: $1 id, $2 claimed attempts, $3 new status, $4 run_at (null:
 * keep), $5 attempts to store, $6 keep last_error, $7 new last_error (when not kept); $8 now.
 */
export const finishJobs = (t: SqlNames) => `
  WITH outcome AS (
    SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::integer[], $6::boolean[], $7::text[])
      AS o(id, attempts, status, run_at, next_attempts, keep_error, error)
  )
  UPDATE ${t.jobs} AS j
     SET status = o.status,
         run_at = COALESCE(o.run_at, j.run_at),
         attempts = o.next_attempts,
         last_error = CASE WHEN o.keep_error THEN j.last_error ELSE o.error END,
         lease_until = NULL,
         updated_at = $8
    FROM outcome AS o
   WHERE j.id = o.id AND j.status = 'processing' AND j.attempts = o.attempts
  RETURNING ${ASYNC_COMMIT}`;

export const heartbeatJobs = (t: SqlNames) => `
  UPDATE ${t.jobs} SET lease_until = $2 WHERE status = 'processing' AND id = ANY($1::text[])`;

/**
 * Returns jobs whose lease ran out to the queue at their own place (run_at, priority and order
 * kept), or fails them when no attempts are left; either way $2 says why. $1 now. Returns `moved` (all of them) and `requeued` (those queued again).
 */
export const reapExpiredJobs = (t: SqlNames) => `
  WITH reaped AS (
    UPDATE ${t.jobs}
       SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
           last_error = $2, lease_until = NULL, updated_at = $1
     WHERE status = 'processing' AND lease_until < $1
    RETURNING status
  )
  SELECT count(*)::integer AS moved, (count(*) FILTER (WHERE status = 'queued'))::integer AS requeued FROM reaped`;

/** The columns of a `JobRecord`, in its field names. */
const RECORD_COLUMNS = `id, name, task_data, status, run_at, "interval", tags, queue, priority, unique_key AS key,
         attempts, max_attempts, last_error, lease_until, created_at, updated_at, traceparent`;

/**
 * Jobs matching a `JobQuery`, oldest first, or newest first when limited.
 * $1 statuses (null: all), $2 name (null: all), $3 updated before (null: any time), $4 limit (null: all).
 */
export const listJobs = (t: SqlNames, newestFirst: boolean) => `
  SELECT ${RECORD_COLUMNS}
    FROM ${t.jobs}
   WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
     AND ($2::text IS NULL OR name = $2::text)
     AND ($3::bigint IS NULL OR updated_at < $3::bigint)
   ORDER BY id ${newestFirst ? 'DESC' : 'ASC'}
   LIMIT $4::bigint`;

/** One job: $1 id. */
export const getJob = (t: SqlNames) => `SELECT ${RECORD_COLUMNS} FROM ${t.jobs} WHERE id = $1`;

/**
 * Finished jobs back to the queue, due now ($4), attempts reset, args and last error kept: those
 * in statuses $1, of ids $2 (null: any), of name $3 (null: any). A job keeps its key unless
 * another live job holds it or another retried job of the same key comes first.
 */
export const retryJobs = (t: SqlNames) => `
  WITH retried AS (
    SELECT id, row_number() OVER (PARTITION BY name, unique_key ORDER BY id) AS rank
      FROM ${t.jobs}
     WHERE status = ANY($1::text[])
       AND ($2::text[] IS NULL OR id = ANY($2::text[]))
       AND ($3::text IS NULL OR name = $3::text)
  )
  UPDATE ${t.jobs} AS j
     SET status = 'queued', attempts = 0, run_at = $4, lease_until = NULL, updated_at = $4,
         unique_key = CASE
           WHEN j.unique_key IS NULL OR r.rank > 1 THEN NULL
           WHEN EXISTS (SELECT 1 FROM ${t.jobs} o
                         WHERE o.name = j.name AND o.unique_key = j.unique_key
                           AND o.status IN ('queued', 'processing')) THEN NULL
           ELSE j.unique_key END
    FROM retried AS r
   WHERE j.id = r.id`;

export const jobStats = (t: SqlNames) => `
  SELECT name, status, count(*)::integer AS count FROM ${t.jobs} GROUP BY name, status ORDER BY name, status COLLATE "C"`;

/** $1 name, $2 now. */
/** $1 name, $2 now, $3 ids (null: every queued job of the name). */
export const cancelJobs = (t: SqlNames) => `
  UPDATE ${t.jobs} SET status = 'cancelled', updated_at = $2
   WHERE status = 'queued' AND name = $1 AND ($3::text[] IS NULL OR id = ANY($3::text[]))`;

/** $1 statuses, $2 updated before (null: any time), $3 ids (null: any). */
export const removeJobs = (t: SqlNames) => `
  DELETE FROM ${t.jobs}
   WHERE status = ANY($1::text[])
     AND ($2::bigint IS NULL OR updated_at < $2::bigint)
     AND ($3::text[] IS NULL OR id = ANY($3::text[]))`;

/** `processing` jobs not updated since $1 go back to the queue, due at $2. */
export const requeueStale = (t: SqlNames) => `
  UPDATE ${t.jobs} SET status = 'queued', lease_until = NULL, run_at = $2, updated_at = $2
   WHERE status = 'processing' AND updated_at <= $1`;

/**
 * Claims a tick: $1 schedule, $2 tick_at, $3 expires_at. Returns a row only for the one claim
 * that inserted it; a concurrent claim of the same tick waits for that one to commit, then
 * inserts nothing. The same statement prunes up to 1000 claims past their hold ($4 now),
 * skipping rows another claim is pruning, so two claims never wait on each other's pruning.
 */
export const claimTick = (t: SqlNames) => `
  WITH pruned AS (
    DELETE FROM ${t.ticks}
     WHERE (schedule, tick_at) IN (
       SELECT schedule, tick_at FROM ${t.ticks} WHERE expires_at <= $4 LIMIT 1000 FOR UPDATE SKIP LOCKED)
  )
  INSERT INTO ${t.ticks} (schedule, tick_at, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT DO NOTHING
  RETURNING 1 AS claimed`;

/** Deletes this queue's jobs only (`dangerously_flush`); other tables and schemas are left alone. */
export const flushJobs = (t: SqlNames) => `DELETE FROM ${t.jobs}`;

export const listen = (t: SqlNames) => `LISTEN ${quoteIdent(t.channel)}`;

/**
 * Wakes idle workers in every process listening on the queue: $1 channel, $2 the sender's token
 * (so a process can ignore its own wake-ups, which it has already delivered in memory). Sent
 * after the jobs' own commit, never inside it: a NOTIFY holds Postgres's database-wide notify
 * lock from before its commit until the commit is on disk, which would serialise every enqueue.
 * This transaction has nothing worth waiting for the disk for.
 */
export const notifyWorkers = `SELECT pg_notify($1, $2), ${ASYNC_COMMIT}`;

/**
 * Wakes idle workers from inside the app's own transaction (an enqueue there): Postgres delivers
 * it at the commit and drops it with a rollback, so no worker looks for a job it cannot see yet.
 * $1 channel, $2 payload.
 */
export const notifyInTransaction = `SELECT pg_notify($1, $2)`;

/** The jobs table with its indexes and TOAST, in bytes. $1 the table's qualified name. */
export const jobsSize = `SELECT pg_total_relation_size($1::regclass) AS bytes`;

/** Makes the space of deleted jobs reusable now and refreshes the planner's statistics. */
export const vacuumJobs = (t: SqlNames) => `VACUUM (ANALYZE) ${t.jobs}`;
