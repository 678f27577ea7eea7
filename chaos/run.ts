/**
 * The chaos drill: worker processes of a fixture app are SIGKILLed, and store servers crashed,
 * while they drain jobs; then every job must have run and none may be left behind.
 *   npm run chaos [-- --only sqlite,postgres,redis --jobs 5000 --job-ms 20 --keep]
 * It starts its own Redis and Postgres on free ports in a temp folder (never the shared ones)
 * and stops them, and every worker process, on the way out, Ctrl-C included.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from './common.js';
import { type DrillResult, type DrillSettings, integrityCheck, killStorm, serverCrash, sqliteKills } from './drills.js';
import { passed, printDrill, printSummary } from './report.js';
import { type StoreServer, startPostgres, startRedis } from './servers.js';
import { killAllWorkers } from './workers.js';

const STORES = ['sqlite', 'postgres', 'redis'] as const;
type Store = (typeof STORES)[number];

const USAGE = `usage: npm run chaos -- [options]
  --only a,b       stores to drill (default all): ${STORES.join(', ')}
  --jobs N         jobs per drill (default 5000)
  --job-ms MS      how long each job works (default 20)
  --drills a,b     drills to run (default all): 1 (worker kills), 2 (server crash), 3 (two SQLite workers)
  --keep           keep the temp folder (stores, runs, worker logs) even when every drill passes
  --help`;

function parseCli() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: STORES.join(',') },
      jobs: { type: 'string', default: '5000' },
      'job-ms': { type: 'string', default: '20' },
      drills: { type: 'string', default: '1,2,3' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !(STORES as readonly string[]).includes(s));
  const jobs = Number(values.jobs);
  const jobMs = Number(values['job-ms']);
  if (unknown.length > 0 || !Number.isInteger(jobs) || jobs < 100 || !Number.isInteger(jobMs) || jobMs < 0) {
    console.error(`Expected stores among ${STORES.join(', ')}, --jobs of at least 100 and a whole --job-ms.\n${USAGE}`);
    process.exit(2);
  }
  const drills = values.drills.split(',').map((s) => s.trim());
  if (drills.some((d) => !['1', '2', '3'].includes(d))) {
    console.error(`Expected drills among 1, 2, 3, found '${values.drills}'.\n${USAGE}`);
    process.exit(2);
  }
  return { only: only as Store[], jobs, jobMs, keep: values.keep, drills };
}

const cli = parseCli();
const root = mkdtempSync(path.join(os.tmpdir(), 'loco-chaos-'));
chmodSync(root, 0o755); // the postgres user must reach its data folder inside
const servers: StoreServer[] = [];
const results: Array<{ store: string; drill: string; result: DrillResult }> = [];
let failed = false;

async function cleanUp(): Promise<void> {
  killAllWorkers();
  for (const server of servers.splice(0)) {
    try {
      await server.stop();
    } catch (err) {
      console.error(`Could not stop a store server the drill started: ${messageOf(err)}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the drill's workers and servers; its files stay in ${root}`);
    cleanUp().finally(() => process.exit(130));
  });
}

/** Runs one drill, prints its table, and remembers whether it passed. */
async function drill(store: Store, name: string, run: () => Promise<DrillResult>): Promise<void> {
  if (!cli.drills.includes(name)) return;
  try {
    const result = await run();
    results.push({ store, drill: name, result });
    printDrill(store, name, result);
    if (!passed(result)) failed = true;
  } catch (err) {
    failed = true;
    console.log(`\n${store}, drill ${name}: FAIL, it could not run: ${messageOf(err)}`);
  }
}

function settings(kind: DrillSettings['kind'], uri: string, name: string): DrillSettings {
  return { kind, uri, dir: path.join(root, name), jobs: cli.jobs, jobMs: cli.jobMs, drainTimeoutMs: 90_000 };
}

async function sqlite(): Promise<void> {
  const file = (name: string) => path.join(root, name, 'queue.sqlite');
  const uri = (name: string) => `sqlite://${file(name)}?mode=rwc`;
  await drill('sqlite', '1', async () => {
    const result = await killStorm(settings('Sqlite', uri('sqlite-kill'), 'sqlite-kill'));
    result.checks.push(integrityCheck(file('sqlite-kill')));
    return result;
  });
  await drill('sqlite', '3', () =>
    sqliteKills(settings('Sqlite', uri('sqlite-two'), 'sqlite-two'), file('sqlite-two')),
  );
}

async function postgres(): Promise<void> {
  const server = await startPostgres(path.join(root, 'postgres'));
  servers.push(server);
  const uri = (schema: string) => server.uri.replace('schema=chaos', `schema=${schema}`);
  await drill('postgres', '1', () => killStorm(settings('Postgres', uri('chaos_kill'), 'postgres-kill')));
  await drill('postgres', '2', () =>
    serverCrash(
      settings('Postgres', uri('chaos_crash'), 'postgres-crash'),
      server,
      'Postgres stopped with -m immediate',
    ),
  );
}

async function redis(): Promise<void> {
  const server = await startRedis(path.join(root, 'redis'));
  servers.push(server);
  const uri = (prefix: string) => server.uri.replace('prefix=chaos', `prefix=${prefix}`);
  await drill('redis', '1', () => killStorm(settings('Redis', uri('chaos_kill'), 'redis-kill')));
  await drill('redis', '2', () =>
    serverCrash(settings('Redis', uri('chaos_crash'), 'redis-crash'), server, 'Redis (AOF everysec) killed -9'),
  );
}

const drills: Record<Store, () => Promise<void>> = { sqlite, postgres, redis };
try {
  console.log(`chaos drill: ${cli.only.join(', ')}; ${cli.jobs} jobs of ${cli.jobMs} ms per drill; files in ${root}`);
  for (const store of cli.only) {
    try {
      await drills[store]();
    } catch (err) {
      failed = true;
      console.log(`\n${store}: FAIL, its server could not be started: ${messageOf(err)}`);
    }
  }
} finally {
  await cleanUp();
}
printSummary(results);
if (failed || cli.keep) console.log(`\nStores, run files and worker logs kept in ${root}`);
else rmSync(root, { recursive: true, force: true });
console.log(failed ? '\nFAIL: see above.' : '\nok: no job lost or stuck, no worker exited or hung.');
process.exit(failed ? 1 : 0);
