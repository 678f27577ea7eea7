/**
 * The jobs dashboard (`admin:` config), a Hono app mounted at `admin.path` by `loco start` in its
 * server modes. Every request needs the admin token, as `Authorization: Bearer <token>` or through
 * the login form's session cookie (HttpOnly, SameSite=Strict); without it the answer is 401 and
 * the login form, with no data. Actions are POSTs carrying the CSRF token (403 without it), and
 * go through the store's operator verbs, as `loco jobs` does.
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AdminConfig } from '../config/schema.js';
import type { AppContext } from '../context.js';
import type { QueueBackend } from '../queue/backend.js';
import { AdminAuth, bearerToken, type Credential, SESSION_COOKIE, SESSION_MS } from './auth.js';
import { parseFilter, readJobPage, readOverview } from './data.js';
import type { Html } from './html.js';
import { loginPage, type ViewContext } from './layout.js';
import { jobPage, liveFragment, NOTICES, overviewPage } from './views.js';

type Env = { Variables: { credential: Credential } };

/** The dashboard's Hono app, to mount at `admin.path`. Call `checkAdminConfig` (`admin/check.ts`) first. */
export function createAdminApp(ctx: AppContext, admin: AdminConfig, backend: QueueBackend): Hono<Env> {
  const app = new Hono<Env>();
  const auth = new AdminAuth(admin.token);
  const base = admin.path;
  const view = (c: Context<Env>): ViewContext => ({
    base,
    csrf: auth.csrfToken(c.get('credential')),
    appName: ctx.appName,
  });
  const htmlPage = (c: Context, body: Html, status: 200 | 401 | 404 = 200) => {
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    return c.html(body.text, status);
  };

  app.get('/login', (c) => htmlPage(c, loginPage(base, ctx.appName, false)));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : undefined;
    if (!auth.tokenMatches(token)) return htmlPage(c, loginPage(base, ctx.appName, true), 401);
    setCookie(c, SESSION_COOKIE, auth.newSession(), {
      path: base,
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      maxAge: SESSION_MS / 1000,
    });
    return c.redirect(base, 303);
  });

  app.use('*', async (c, next) => {
    const bearer = bearerToken(c.req.header('authorization'));
    const session = getCookie(c, SESSION_COOKIE);
    if (bearer !== undefined && auth.tokenMatches(bearer)) c.set('credential', { kind: 'bearer' });
    else if (bearer === undefined && session && auth.sessionValid(session))
      c.set('credential', { kind: 'session', value: session });
    else {
      c.header('WWW-Authenticate', 'Bearer realm="loco admin"');
      return htmlPage(c, loginPage(base, ctx.appName, false), 401);
    }
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      const given = c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : undefined);
      if (!auth.csrfValid(c.get('credential'), given)) {
        return c.text('Forbidden: this form has no valid CSRF token. Reload the dashboard and try again.', 403);
      }
    }
    await next();
  });

  app.get('/', async (c) => {
    const filter = parseFilter(c.req.query());
    const [overview, jobs] = await Promise.all([readOverview(ctx, backend), readJobPage(backend, filter)]);
    return htmlPage(c, overviewPage(view(c), overview, jobs, filter, NOTICES[c.req.query('done') ?? '']));
  });
  app.get('/live', async (c) => {
    const filter = parseFilter(c.req.query());
    const [overview, jobs] = await Promise.all([readOverview(ctx, backend), readJobPage(backend, filter)]);
    return htmlPage(c, liveFragment(view(c), overview, jobs, filter));
  });
  app.get('/jobs/:id', async (c) => {
    const job = await backend.get(c.req.param('id'));
    if (!job) return c.text(`No job with id ${c.req.param('id')}: it may have been deleted.`, 404);
    return htmlPage(c, jobPage(view(c), job, NOTICES[c.req.query('done') ?? '']));
  });

  app.post('/jobs/:id/:action{cancel|retry|delete}', async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action');
    const job = await backend.get(id);
    if (!job) return c.text(`No job with id ${id}: it may have been deleted.`, 404);
    let changed: number;
    if (action === 'cancel') changed = await backend.cancel(job.name, [id]);
    else if (action === 'retry') changed = await backend.retry({ statuses: ['failed', 'cancelled'], ids: [id] });
    else changed = await backend.remove({ statuses: ['queued', 'completed', 'failed', 'cancelled'], ids: [id] });
    const done = { cancel: 'cancelled', retry: 'retried', delete: 'deleted' }[action]!;
    return back(c, changed > 0 ? done : `not-${done}`);
  });
  app.post('/retry-failed', async (c) => {
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' && form.name !== '' ? form.name : undefined;
    await backend.retry({ statuses: ['failed'], name });
    return back(c, 'retried-failed');
  });
  app.post('/:action{pause|resume}', async (c) => {
    const form = await c.req.parseBody();
    if (typeof form.name !== 'string' || form.name === '')
      return c.text('Expected the worker name in the form field name.', 400);
    const target = { kind: 'worker' as const, name: form.name };
    if (c.req.param('action') === 'pause') await backend.pause(target);
    else await backend.resume(target);
    return back(c, c.req.param('action') === 'pause' ? 'paused' : 'resumed');
  });
  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: base });
    return c.redirect(`${base}/login`, 303);
  });

  /** Back to the page the form came from (only a dashboard page), with the notice's code. */
  async function back(c: Context<Env>, done: string) {
    const form = await c.req.parseBody();
    const from = typeof form.back === 'string' ? form.back : base;
    const url = new URL(isDashboardPath(from, base) ? from : base, 'http://dashboard.invalid');
    url.searchParams.set('done', done);
    return c.redirect(`${url.pathname}${url.search}`, 303);
  }

  return app;
}

/** True for the dashboard's own pages: its path, with a query or under `/jobs/`. */
function isDashboardPath(path: string, base: string): boolean {
  if (/[\s\\]/.test(path) || path.includes('//')) return false;
  return path === base || path.startsWith(`${base}?`) || path.startsWith(`${base}/jobs/`);
}

function isHttps(c: Context): boolean {
  return c.req.url.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';
}
