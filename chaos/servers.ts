/**
 * The drill's own store servers: a Redis and a Postgres on free ports in the drill's temp folder,
 * never the shared ones. Each can be crashed (SIGKILL / `pg_ctl stop -m immediate`) and started
 * again on its data, and `stop` ends exactly what was started here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './common.js';

/** A store server the drill started and may crash and start again. */
export interface StoreServer {
  /** The queue URI the fixture app is given. */
  uri: string;
  /** Ends the server the hard way: no clean shutdown, as a power cut or an OOM kill would. */
  crash(): Promise<void>;
  /** Starts it again on the same data and port, and waits until it takes connections. */
  restart(): Promise<void>;
  /** Stops it if it runs; safe to call twice and after a failed start. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on the port, or throws after `ms`. */
async function waitForPort(port: number, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} did not accept connections on 127.0.0.1:${port} within ${ms} ms; see its log.`);
}

/** Redis with AOF fsync'ed every second, in `dir`, run as a child of this process. */
export async function startRedis(dir: string): Promise<StoreServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    ...['--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'],
  ];
  let child: ChildProcess | undefined;
  let stopped = false;
  const launch = async () => {
    if (stopped) throw new Error('The drill stopped its Redis: not starting it again.');
    child = spawn('redis-server', args, { stdio: 'ignore' });
    child.once('error', () => {}); // a missing binary shows as the port never opening
    await waitForPort(port, 10_000, `redis-server (log: ${dir}/redis.log)`);
  };
  const kill = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await launch();
  return {
    uri: `redis://127.0.0.1:${port}/0?prefix=chaos`,
    crash: () => kill('SIGKILL'),
    restart: launch,
    stop: () => {
      stopped = true;
      return kill('SIGTERM');
    },
  };
}

/** The newest installed Postgres's bin folder (Debian's layout). */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(base, v, 'bin')).find((dir) => existsSync(path.join(dir, 'pg_ctl')));
  if (!bin)
    throw new Error(`Expected Postgres's initdb and pg_ctl in ${base}/<version>/bin; found none. Install postgresql.`);
  return bin;
}

/**
 * Postgres in `dir/data`, made by initdb and run by pg_ctl as the `postgres` user (initdb
 * refuses root). Trust auth for `root` on 127.0.0.1 only, its socket in `dir`.
 */
export async function startPostgres(dir: string): Promise<StoreServer> {
  const bin = postgresBin();
  const port = await freePort();
  const data = path.join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const file = path.join(bin, tool);
    const [cmd, all] = asPostgres ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    execFileSync(cmd, all, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const pgCtl = (args: string[]) => run('pg_ctl', ['-D', data, ...args]);
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'root', '--no-sync', '--no-instructions']);
  let started = false;
  let stopped = false;
  const launch = async () => {
    if (stopped) throw new Error('The drill stopped its Postgres: not starting it again.');
    pgCtl(['-o', options, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', 'start']);
    started = true;
    await waitForPort(port, 10_000, `postgres (log: ${dir}/postgres.log)`);
  };
  await launch();
  return {
    uri: `postgres://root@127.0.0.1:${port}/postgres?schema=chaos`,
    crash: async () => {
      pgCtl(['-m', 'immediate', '-w', 'stop']);
      started = false;
    },
    restart: launch,
    stop: async () => {
      stopped = true;
      if (!started && !existsSync(path.join(data, 'postmaster.pid'))) return;
      started = false;
      try {
        pgCtl(['-m', 'fast', '-w', '-t', '30', 'stop']);
      } catch {
        pgCtl(['-m', 'immediate', '-w', 'stop']);
      }
    },
  };
}
