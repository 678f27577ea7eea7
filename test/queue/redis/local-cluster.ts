// A Redis Cluster of its own for a test: three masters (`redis-server --cluster-enabled yes`) on
// free ports of 127.0.0.1 in a temp folder, joined with `redis-cli --cluster create`. Only the
// servers it started are stopped (by PID), when `stop()` is called and, whatever happens, when the
// test process exits.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../ports.js';

const run = promisify(execFile);
/** A cluster node's bus port is its port + 10000. */
const BUS_PORT_OFFSET = 10_000;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** A running local cluster. */
export interface LocalCluster {
  /** `host:port` of each master. */
  nodes: string[];
  /** The `redis+cluster://` URI of the cluster with this key prefix. */
  uri(prefix: string): string;
  /** Stops the servers this cluster started and removes its folder. */
  stop(): void;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`local Redis Cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a cluster of `masters` masters with no replicas; resolves once every node says `cluster_state:ok`. */
export async function startLocalCluster(masters = 3): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loco-redis-cluster-'));
  const children: ChildProcess[] = [];
  let spawnError: Error | undefined;
  const stop = () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // It exited between the check and the kill.
        }
      }
    }
    children.length = 0;
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', stop);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
  // Ctrl-C or a CI timeout ends the process without 'exit': stop the servers, then end as the signal would.
  const onSignal = (signal: NodeJS.Signals) => {
    stop();
    process.kill(process.pid, signal);
  };
  process.on('exit', stop);
  for (const signal of SIGNALS) process.once(signal, onSignal);
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let n = 0; n < masters; n++) ports.push(await freePort(taken, BUS_PORT_OFFSET));
    for (const port of ports) {
      // No persistence: the cluster lives as long as the test.
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`,
      ]; // biome-ignore format: one option and its value a pair
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      child.on('error', (err) => {
        spawnError ??= err;
      });
      // The servers must not keep the test process alive; they are stopped when it exits.
      child.unref();
      children.push(child);
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    for (const port of ports) {
      // A redis-server that cannot be spawned (not installed) ends the wait at once.
      await waitFor(
        `redis-server on ${port} answered PING`,
        async () => spawnError !== undefined || ping(port),
        10_000,
      ).catch((err) => {
        let log = '(no log)';
        try {
          log = readFileSync(path.join(dir, `redis-${port}.log`), 'utf8').slice(-2000);
        } catch {
          // The server never started far enough to write one.
        }
        throw new Error(`${(err as Error).message}; its log ends:\n${log}`);
      });
      if (spawnError) {
        throw new Error(
          `local Redis Cluster: cannot start redis-server (${spawnError.message}); the cluster test needs ` +
            'redis-server and redis-cli on PATH (Debian: apt-get install redis-server).',
        );
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    for (const port of ports) {
      await waitFor(`node ${port} reported cluster_state:ok`, () => clusterOk(port), 20_000);
    }
    return { nodes, uri: (prefix) => `redis+cluster://${nodes.join(',')}?prefix=${prefix}`, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function withNode<T>(port: number, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

function ping(port: number): Promise<boolean> {
  return withNode(port, async (redis) => (await redis.ping()) === 'PONG');
}

function clusterOk(port: number): Promise<boolean> {
  return withNode(port, async (redis) => {
    const info = (await redis.call('CLUSTER', 'INFO')) as string;
    return info.includes('cluster_state:ok');
  });
}
