import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AdminAuth, bearerToken } from './admin/auth.js';
import { checkAdminConfig } from './admin/check.js';
import { createAdminApp } from './admin/routes.js';
import type { BootedApp } from './boot.js';
import { formatBytes } from './byte-size.js';
import { describeError } from './errors.js';

/**
 * Builds the HTTP app: `/_ping`, `/_health`, the jobs dashboard (`admin:`) and the metrics
 * (`metrics:`) where the config turns them on, and the app's own `routes`, every one behind the
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
  const { admin } = ctx.config;
  if (admin.enabled) {
    checkAdminConfig(ctx);
    http.route(admin.path, createAdminApp(ctx, admin, ctx.queue.backend!));
  }
  const { metrics } = booted;
  if (metrics) {
    // The admin token protects the metrics too, whenever one is set (a scraper sends it as a Bearer token).
    const auth = admin.token === '' ? undefined : new AdminAuth(admin.token);
    http.get(ctx.config.metrics.path, async (c) => {
      if (auth && !auth.tokenMatches(bearerToken(c.req.header('authorization')))) {
        c.header('WWW-Authenticate', 'Bearer realm="loco metrics"');
        return c.text('Unauthorized: send the admin token as Authorization: Bearer <token>.', 401);
      }
      return c.body(await metrics.metrics(), 200, { 'Content-Type': metrics.contentType });
    });
  }
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
