// Ports for servers a test starts itself. They are picked below Linux's ephemeral range
// (32768-60999), where the kernel never hands out a port to an outbound connection or to a
// `listen(0)`: a port found free here stays free until the test binds it, even when the test
// releases it for a while (a server stopped and started again) and other tests run beside it.
import net from 'node:net';

const LOWEST = 10_000;
/** The highest port returned; with `spare` set, `port + spare` is below the ephemeral range too. */
const EPHEMERAL_START = 32_768;

/** Whether nothing listens on 127.0.0.1:port. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port nothing listens on, on 127.0.0.1, not in `taken`; with `spare` (a Redis Cluster node's
 * bus port is `port + 10000`), `port + spare` is free and not in `taken` as well. Both are added
 * to `taken`.
 */
export async function freePort(taken = new Set<number>(), spare = 0): Promise<number> {
  const span = EPHEMERAL_START - spare - LOWEST;
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * span);
    const ports = spare ? [port, port + spare] : [port];
    if (ports.some((p) => taken.has(p))) continue;
    if ((await isFree(port)) && (!spare || (await isFree(port + spare)))) {
      for (const p of ports) taken.add(p);
      return port;
    }
  }
}
