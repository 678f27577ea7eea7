import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { BootedApp } from './boot.js';
import { formatBytes } from './byte-size.js';
import { describeError } from './errors.js';

/**
 * Builds the HTTP app: `/_ping`, `/_health` and the app's own `routes`, every one behind the
 * `server.body_limit` on request bodies (413 past it, before any route reads the body).
 */
export async function createHttpApp(booted: BootedApp): Promise<Hono> {
  const http = new Hono();
  const { ctx, hooks } = booted;
  const limit = ctx.config.server.body_limit;
  http.use(
    bodyLimit({
      maxSize: limit,
      onError: (c) =>
        c.json({ error: `The request body is over the limit of ${formatBytes(limit)} (server.body_limit).` }, 413),
    }),
  );
  http.get('/_ping', (c) => c.json({ ok: true, app: ctx.appName }));
  http.get('/_health', async (c) => {
    const backend = ctx.queue.backend;
    try {
      await backend?.ping();
      return c.json({ ok: true, mode: ctx.queue.mode, queue: backend?.kind ?? null });
    } catch (err) {
      return c.json(
        { ok: false, mode: ctx.queue.mode, queue: backend?.kind ?? null, error: describeError(err).split('\n')[0] },
        503,
      );
    }
  });
  await hooks.routes?.(http, ctx);
  return http;
}

/** Serves the app on `port`/`hostname`; resolves once listening. */
export async function listen(http: Hono, port: number, hostname: string): Promise<{ server: ServerType; url: string }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: http.fetch, port, hostname }, (info) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({ server, url: `http://${host}:${info.port}` });
    });
    server.once('error', reject);
  });
}
