// The jobs dashboard in headless Chromium (Debian's package, driven by playwright-core), on an app
// run by `loco start --server-and-worker` against each durable store: sign-in, counts, filters, a
// job's page, retry, cancel, bulk retry and the live refresh; 401 without the token, 403 without
// the CSRF token, and job data shown as text. Screenshots go to test-output/dashboard/.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueueBackend } from '../../runtime/src/internals.js';
import { copyFixtureApp, ROOT, seed } from '../cli/helpers.js';
import { newJob, openStore, testStoreConfig } from '../queue/helpers.js';
import { postgresStore, redisStore, sqliteStore, type TestStore } from '../stores.js';
import { CHROMIUM_ARGS, type RunningApp, requireChromium, startApp } from './app-server.js';

const TOKEN = 'dashboard-test-token-0123456789';
const SHOTS = path.join(ROOT, 'test-output/dashboard');
const SCRIPT_ARGS = { note: '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">' };

function dashboardSuite(store: TestStore) {
  const test = suite(`dashboard on ${store.kind}`);
  let browser: Browser;
  let backend: QueueBackend;
  let app: RunningApp;
  let root: string;
  let ids: Record<string, string[]>;

  test.before(async () => {
    browser = await chromium.launch({ executablePath: requireChromium(), args: CHROMIUM_ARGS, headless: true });
    root = copyFixtureApp('ops-app');
    const uri = store.fresh();
    backend = await openStore(testStoreConfig({ kind: store.kind, uri }));
    // Seeded before the app starts, so its worker takes none of them half-way.
    const seeded = await seed(backend, [
      { name: 'ShipWorker', status: 'completed' },
      { name: 'ShipWorker', status: 'completed' },
      { name: 'ShipWorker', status: 'failed', error: 'Error: the shipping service is down\n    at ShipWorker.perform' },
      { name: 'ShipWorker', status: 'failed', error: 'Error: timeout\n    at ShipWorker.perform' },
      { name: 'ShipWorker', status: 'failed', args: SCRIPT_ARGS, error: '<b>bold</b> error\n    at <anonymous>' },
      // No process registers ArchiveWorker: its jobs stay queued until cancelled.
      { name: 'ArchiveWorker', tags: ['archive'], args: { box: 1 } },
      { name: 'ArchiveWorker', tags: ['archive'], args: { box: 2 } },
      { name: 'ArchiveWorker', tags: ['cold'], args: { box: 3 } },
      { name: 'ArchiveWorker', status: 'cancelled', args: { box: 4 } },
    ]);
    ids = { completed: seeded.slice(0, 2), failed: seeded.slice(2, 5), queued: seeded.slice(5, 8) };
    // And one running in a worker process elsewhere (a long lease, so nothing takes it back).
    const [running] = await backend.enqueue([
      newJob('StuckWorker', { id: '01JRUNNINGJOB0000000000000', task_data: {} }),
    ]);
    await backend.claim({ names: ['StuckWorker'], tags: [], limit: 1, leaseMs: 600_000, now: Date.now() });
    ids.processing = [running.id];
    app = await startApp(root, { LOCO_TEST_QUEUE_KIND: store.kind, LOCO_TEST_QUEUE_URI: uri, LOCO_ADMIN_TOKEN: TOKEN });
    mkdirSync(SHOTS, { recursive: true });
  });

  test.after(async () => {
    await app?.stop();
    await browser?.close();
    await backend?.close();
    await store.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const base = () => `${app.url}/_admin/jobs`;
  const shot = (page: Page, view: string) =>
    page.screenshot({ path: path.join(SHOTS, `${store.name}-${view}.png`), fullPage: true });
  const card = (page: Page, status: string) => page.textContent(`.card[data-status="${status}"] b`);

  /** A signed-in page (through the login form), with script dialogs counted. */
  async function signedIn(): Promise<{ page: Page; dialogs: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(base());
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(base()), page.click('button[type=submit]')]);
    return { page, dialogs };
  }

  test('401 and the login form without the token; a wrong token is refused; the cookie is HttpOnly and SameSite', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(base());
    assert.is(response?.status(), 401);
    const html = await page.content();
    for (const id of [...ids.failed, ...ids.queued]) assert.not.ok(html.includes(id), 'no job data before sign-in');
    assert.ok(await page.isVisible('input[name=token]'));
    await shot(page, 'login');
    await page.fill('input[name=token]', 'not-the-token');
    const [refused] = await Promise.all([page.waitForResponse(`${base()}/login`), page.click('button[type=submit]')]);
    assert.is(refused.status(), 401);
    assert.match((await page.textContent('[role=alert]')) ?? '', 'not the admin token');
    assert.is((await context.request.get(`${base()}/jobs/${ids.failed[0]}`)).status(), 401);
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(base()), page.click('button[type=submit]')]);
    const [cookie] = await context.cookies();
    assert.is(cookie.httpOnly, true);
    assert.is(cookie.sameSite, 'Strict');
    assert.is(cookie.path, '/_admin/jobs');
    assert.not.ok(cookie.value.includes(TOKEN), 'the cookie is a signed session, not the token');
    await context.close();
  });

  test('Bearer token instead of the form; a POST without the CSRF token is 403 and changes nothing', async () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const anonymous = await fetch(base());
    assert.is(anonymous.status, 401);
    assert.not.ok((await anonymous.text()).includes(ids.queued[0]));
    assert.is((await fetch(base(), { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const page = await fetch(base(), { headers: bearer });
    assert.is(page.status, 200);
    assert.ok((await page.text()).includes(ids.queued[0]));
    const target = `${base()}/jobs/${ids.queued[0]}/cancel`;
    assert.is((await fetch(target, { method: 'POST', headers: bearer, body: new URLSearchParams({}) })).status, 403);
    assert.is(
      (await fetch(target, { method: 'POST', headers: bearer, body: new URLSearchParams({ _csrf: 'forged' }) })).status,
      403,
    );
    const { page: browserPage } = await signedIn();
    const noCsrf = await browserPage.request.post(target, { form: { back: '/_admin/jobs' } });
    assert.is(noCsrf.status(), 403, 'a signed-in session still needs the CSRF token');
    assert.is((await backend.get(ids.queued[0]))!.status, 'queued');
    await browserPage.context().close();
  });

  test('counts by status and worker, filters by status, worker and tag, newest first; a job shown whole, its data as text', async () => {
    const { page, dialogs } = await signedIn();
    assert.is(await card(page, 'failed'), '3');
    assert.is(await card(page, 'completed'), '2');
    assert.is(await card(page, 'queued'), '3');
    assert.is(await card(page, 'cancelled'), '1');
    assert.is(await card(page, 'processing'), '1');
    const archive = await page.$$eval('#workers tr[data-worker="ArchiveWorker"] td.num', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    assert.equal(archive, ['3', '0', '0', '0', '1'], 'queued, processing, completed, failed, cancelled');
    assert.ok(
      await page.isVisible('#workers tr[data-worker="SlowWorker"]'),
      'a registered worker without jobs is listed',
    );
    await shot(page, 'overview');

    await page.selectOption('select[name=status]', 'failed');
    await Promise.all([page.waitForURL(/status=failed/), page.click('form.filters button[type=submit]')]);
    const rows = () => page.$$eval('#jobs tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.id));
    assert.equal(await rows(), [...ids.failed].reverse(), 'the failed jobs, newest first');
    await page.selectOption('select[name=status]', '');
    await page.fill('input[name=tag]', 'archive');
    await Promise.all([page.waitForURL(/tag=archive/), page.click('form.filters button[type=submit]')]);
    assert.equal(await rows(), [ids.queued[1], ids.queued[0]]);
    await page.goto(`${base()}?name=ArchiveWorker&status=queued`);
    assert.equal(await rows(), [...ids.queued].reverse());
    await shot(page, 'filtered');

    const scripted = ids.failed[2];
    await page.goto(`${base()}?status=failed`);
    await Promise.all([page.waitForURL(`${base()}/jobs/${scripted}`), page.click(`a[href$="/jobs/${scripted}"]`)]);
    assert.is(await page.textContent('#job-id'), scripted);
    assert.equal(JSON.parse((await page.textContent('#args'))!), SCRIPT_ARGS, 'the args, as text');
    assert.is(await page.textContent('#last-error'), '<b>bold</b> error\n    at <anonymous>');
    assert.is(await page.$$eval('#args script, #args img, #last-error b', (found) => found.length), 0);
    assert.is(
      await page.evaluate(() => (window as { __pwned?: number }).__pwned),
      undefined,
      'no script of the args ran',
    );
    assert.equal(dialogs, []);
    assert.match((await page.textContent('#job'))!, /attempts\s*1 of 3/);
    await shot(page, 'job');
    await page.context().close();
  });

  test('retry a failed job and see it complete; cancel a queued one, then delete it', async () => {
    const { page } = await signedIn();
    const failed = ids.failed[0];
    await page.goto(`${base()}/jobs/${failed}`);
    await Promise.all([page.waitForURL(/done=retried/), page.click('button:has-text("Retry")')]);
    assert.is(await page.textContent('[role=status]'), 'Queued again.');
    await until(async () => {
      await page.reload();
      return (await page.textContent('[data-field=status]')) === 'completed';
    }, 'the retried job to complete');

    const queued = ids.queued[2];
    await page.goto(`${base()}?status=queued`);
    await Promise.all([
      page.waitForURL(/done=cancelled/),
      page.click(`tr[data-id="${queued}"] button:has-text("Cancel")`),
    ]);
    assert.is(await page.textContent('[role=status]'), 'Cancelled.');
    assert.not.ok(await page.isVisible(`tr[data-id="${queued}"]`), 'gone from the queued jobs');
    assert.is((await backend.get(queued))!.status, 'cancelled');
    assert.is((await backend.get(ids.queued[1]))!.status, 'queued', 'the others stay queued');

    await page.goto(`${base()}/jobs/${queued}`);
    await Promise.all([page.waitForURL(/done=deleted/), page.click('button:has-text("Delete")')]);
    assert.is(await page.textContent('[role=status]'), 'Deleted.');
    assert.is(await backend.get(queued), null);
    await page.context().close();
  });

  test('bulk retry of the failed jobs: the open page follows them to completed without a reload', async () => {
    const { page } = await signedIn();
    assert.is(await card(page, 'failed'), '2');
    const completedBefore = Number(await card(page, 'completed'));
    await Promise.all([page.waitForURL(/done=retried-failed/), page.click('button:has-text("Retry all 2 failed")')]);
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    await page.waitForFunction(
      (expected) =>
        document.querySelector('.card[data-status="failed"] b')?.textContent === '0' &&
        document.querySelector('.card[data-status="completed"] b')?.textContent === String(expected),
      completedBefore + 2,
      { timeout: 20_000 },
    );
    assert.is(await page.evaluate(() => performance.timeOrigin), loadedAt, 'the same page, refreshed in place');
    await shot(page, 'after-retry');
    for (const id of ids.failed) assert.is((await backend.get(id))!.status, 'completed');
    await page.context().close();
  });

  test('pause and resume a worker', async () => {
    const { page } = await signedIn();
    await Promise.all([
      page.waitForURL(/done=paused/),
      page.click('tr[data-worker="ShipWorker"] button:has-text("Pause")'),
    ]);
    assert.equal(await backend.paused(), [{ kind: 'worker', name: 'ShipWorker' }]);
    assert.ok(await page.isVisible('tr[data-worker="ShipWorker"] button:has-text("Resume")'));
    await Promise.all([
      page.waitForURL(/done=resumed/),
      page.click('tr[data-worker="ShipWorker"] button:has-text("Resume")'),
    ]);
    assert.equal(await backend.paused(), []);
    await page.context().close();
  });

  return test;
}

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// Fails with how to install Chromium when it is missing, instead of skipping silently.
requireChromium();
for (const store of [sqliteStore('dash'), postgresStore('dash'), redisStore('dash')]) dashboardSuite(store).run();
