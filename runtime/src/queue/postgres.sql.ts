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
  /** The NOTIFY channel: `loco:` + the schema name (a string parameter, not an identifier). */
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
    channel: `loco:${schema}`,
  };
}

/** One schema change; `version` numbers run from 1 without gaps and are never reused. */
export interface Migration {
  version: number;
  name: string;
  sql(names: SqlNames): string;
}

/** Every migration, in order. Append new ones; never edit one that has shipped. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'create loco_jobs',
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
      -- wakes idle workers (LISTEN "loco:<schema>") whatever inserted the jobs
      CREATE FUNCTION ${t.schema}.loco_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('loco:' || TG_TABLE_SCHEMA, '');
          RETURN NULL;
        END
      $$;
      CREATE TRIGGER loco_jobs_notify AFTER INSERT ON ${t.jobs}
        FOR EACH STATEMENT EXECUTE FUNCTION ${t.schema}.loco_jobs_notify();`,
  },
];

/** Serialises concurrent boots on one schema for the length of the transaction. */
export const lockMigrations = `SELECT pg_advisory_xact_lock(hashtext('loco-ts migrations'), hashtext($1))`;

export const schemaExists = `SELECT 1 FROM pg_namespace WHERE nspname = $1`;

export const createSchema = (t: SqlNames) => `CREATE SCHEMA ${t.schema}`;

export const createMigrationsTable = (t: SqlNames) => `
  CREATE TABLE IF NOT EXISTS ${t.migrations} (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

export const appliedVersion = (t: SqlNames) => `SELECT COALESCE(max(version), 0) AS version FROM ${t.migrations}`;

export const recordMigration = (t: SqlNames) => `INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`;

/** One job; the INSERT trigger sends the wake-up. */
export const enqueueJob = (t: SqlNames) => `
  INSERT INTO ${t.jobs} (id, name, task_data, run_at, "interval", tags, queue, max_attempts, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

/**
 * Many jobs in one statement; all or none. Arrays, one element per job: $1 id, $2 name,
 * $3 task_data, $4 run_at, $5 interval, $6 tags (each a JSON array, as `text[][]` needs equal
 * lengths), $7 queue, $8 max_attempts, $9 created_at; $10 now.
 */
export const enqueueJobs = (t: SqlNames) => `
  INSERT INTO ${t.jobs} (id, name, task_data, run_at, "interval", tags, queue, max_attempts, created_at, updated_at)
  SELECT j.id, j.name, j.task_data, j.run_at, j."interval", ARRAY(SELECT json_array_elements_text(j.tags)),
         j.queue, j.max_attempts, j.created_at, $10
    FROM unnest($1::text[], $2::text[], $3::json[], $4::bigint[], $5::bigint[], $6::json[], $7::text[],
                $8::integer[], $9::bigint[])
      AS j(id, name, task_data, run_at, "interval", tags, queue, max_attempts, created_at)`;

const CLAIM_TAGS = {
  /** Rules 1 and 3: a process without tags takes only untagged jobs. */
  untagged: `AND tags = '{}'`,
  /** Rules 2 and 4: at least one tag in common, compared exactly. */
  matching: `AND tags && $5::text[]`,
  any: '',
};

/** The claim variants: which jobs a process takes by their tags. */
export type ClaimVariant = keyof typeof CLAIM_TAGS;

/**
 * The claim's inner SELECT: due, queued jobs of the given names in run order, skipping rows
 * another claim holds. `loco_jobs_claim` matches its WHERE and ORDER BY.
 * $1 now, $3 names, $4 limit (, $5 tags).
 */
export const pickDueJobs = (t: SqlNames, variant: ClaimVariant) => `
  SELECT id FROM ${t.jobs}
   WHERE status = 'queued' AND run_at <= $1 AND name = ANY($3::text[])
     ${CLAIM_TAGS[variant]}
   ORDER BY run_at, id
   LIMIT $4
   FOR UPDATE SKIP LOCKED`;

/**
 * Moves up to $4 due jobs to `processing` with a lease, in one round trip.
 * $1 now, $2 lease_until, $3 names, $4 limit (, $5 tags).
 */
export const claimJobs = (t: SqlNames, variant: ClaimVariant) => `
  UPDATE ${t.jobs} AS j
     SET status = 'processing', attempts = j.attempts + 1, lease_until = $2, updated_at = $1
   WHERE j.id = ANY(ARRAY(${pickDueJobs(t, variant)}))
  RETURNING j.id, j.name, j.task_data, j."interval", j.tags, j.queue, j.attempts, j.max_attempts, j.run_at`;

/**
 * Records a batch of outcomes in one statement. Each row is fenced: it applies only while the job
 * is still `processing` with the attempt it was claimed with. Returns one row (after sending the
 * wake-up) when any job went back to the queue.
 * Arrays, one element per outcome: $1 id, $2 claimed attempts, $3 new status, $4 run_at (null:
 * keep), $5 attempts to store, $6 error (kept as last_error unless the status is completed);
 * $7 now, $8 channel.
 */
export const finishJobs = (t: SqlNames) => `
  WITH outcome AS (
    SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::integer[], $6::text[])
      AS o(id, attempts, status, run_at, next_attempts, error)
  ), saved AS (
    UPDATE ${t.jobs} AS j
       SET status = o.status,
           run_at = COALESCE(o.run_at, j.run_at),
           attempts = o.next_attempts,
           last_error = CASE WHEN o.status = 'completed' THEN j.last_error ELSE o.error END,
           lease_until = NULL,
           updated_at = $7
      FROM outcome AS o
     WHERE j.id = o.id AND j.status = 'processing' AND j.attempts = o.attempts
    RETURNING j.status
  )
  SELECT pg_notify($8, '') FROM (SELECT 1 FROM saved WHERE status = 'queued' LIMIT 1) AS requeued`;

export const heartbeatJobs = (t: SqlNames) => `
  UPDATE ${t.jobs} SET lease_until = $2 WHERE status = 'processing' AND id = ANY($1::text[])`;

/**
 * Returns jobs whose lease ran out to the queue (or fails them when no attempts are left) and
 * wakes idle workers when any went back. $1 now, $2 channel. Returns `moved`.
 */
export const reapExpiredJobs = (t: SqlNames) => `
  WITH reaped AS (
    UPDATE ${t.jobs}
       SET status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
           last_error = CASE WHEN attempts < max_attempts THEN last_error
                        ELSE 'The lease ran out before the job finished (its worker stopped or hung).' END,
           run_at = $1, lease_until = NULL, updated_at = $1
     WHERE status = 'processing' AND lease_until < $1
    RETURNING status
  ), woken AS (
    SELECT pg_notify($2, '') FROM (SELECT 1 FROM reaped WHERE status = 'queued' LIMIT 1) AS requeued
  )
  SELECT (SELECT count(*) FROM reaped)::integer AS moved, (SELECT count(*) FROM woken)::integer AS woken`;

/**
 * Jobs matching a `JobQuery`, oldest first, or newest first when limited.
 * $1 statuses (null: all), $2 name (null: all), $3 updated before (null: any time), $4 limit (null: all).
 */
export const listJobs = (t: SqlNames, newestFirst: boolean) => `
  SELECT id, name, task_data, status, run_at, "interval", tags, queue, attempts, max_attempts,
         last_error, lease_until, created_at, updated_at
    FROM ${t.jobs}
   WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
     AND ($2::text IS NULL OR name = $2::text)
     AND ($3::bigint IS NULL OR updated_at < $3::bigint)
   ORDER BY id ${newestFirst ? 'DESC' : 'ASC'}
   LIMIT $4::bigint`;

export const jobStats = (t: SqlNames) => `
  SELECT name, status, count(*)::integer AS count FROM ${t.jobs} GROUP BY name, status ORDER BY name, status COLLATE "C"`;

/** $1 name, $2 now. */
export const cancelJobs = (t: SqlNames) => `
  UPDATE ${t.jobs} SET status = 'cancelled', updated_at = $2 WHERE status = 'queued' AND name = $1`;

/** $1 statuses, $2 updated before (null: any time), $3 ids (null: any). */
export const removeJobs = (t: SqlNames) => `
  DELETE FROM ${t.jobs}
   WHERE status = ANY($1::text[])
     AND ($2::bigint IS NULL OR updated_at < $2::bigint)
     AND ($3::text[] IS NULL OR id = ANY($3::text[]))`;

/** `processing` jobs not updated since $1 go back to the queue, at $2; $3 channel. Returns `moved`. */
export const requeueStale = (t: SqlNames) => `
  WITH moved AS (
    UPDATE ${t.jobs} SET status = 'queued', lease_until = NULL, run_at = $2, updated_at = $2
     WHERE status = 'processing' AND updated_at <= $1
    RETURNING 1
  ), woken AS (
    SELECT pg_notify($3, '') FROM (SELECT 1 FROM moved LIMIT 1) AS requeued
  )
  SELECT (SELECT count(*) FROM moved)::integer AS moved, (SELECT count(*) FROM woken)::integer AS woken`;

/** Deletes this queue's jobs only (`dangerously_flush`); other tables and schemas are left alone. */
export const flushJobs = (t: SqlNames) => `DELETE FROM ${t.jobs}`;

export const listen = (t: SqlNames) => `LISTEN ${quoteIdent(t.channel)}`;
