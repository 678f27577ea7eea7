// The admin: and metrics: config sections, and `loco start` refusing a dashboard without a token.
import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../../runtime/src/internals.js';
import { copyFixtureApp } from '../cli/helpers.js';
import { runStart } from './app-server.js';

test('admin: and metrics: are off by default, at /_admin/jobs and /_metrics', () => {
  const config = validateConfig({}, 'test.yaml');
  assert.equal(config.admin, { enabled: false, path: '/_admin/jobs', token: '' });
  assert.equal(config.metrics, { enabled: false, path: '/_metrics' });
  const set = validateConfig(
    { admin: { enabled: true, path: '/ops/jobs', token: 's3cret' }, metrics: { enabled: true, path: '/metrics' } },
    'test.yaml',
  );
  assert.equal(set.admin, { enabled: true, path: '/ops/jobs', token: 's3cret' });
  assert.equal(set.metrics, { enabled: true, path: '/metrics' });
});

test('a bad path or token type is refused, naming the key; the token is never echoed', () => {
  assert.throws(
    () => validateConfig({ admin: { path: 'admin' } }, 'test.yaml'),
    /test\.yaml: admin\.path: expected a path such as \/_admin\/jobs/,
  );
  assert.throws(() => validateConfig({ metrics: { path: '/' } }, 'test.yaml'), /metrics\.path/);
  assert.throws(() => validateConfig({ admin: { path: '/a/' } }, 'test.yaml'), /admin\.path/);
  assert.throws(
    () => validateConfig({ admin: { token: 123456789 } }, 'test.yaml'),
    (err: Error) =>
      /admin\.token: expected a string, found a value of type number/.test(err.message) &&
      !err.message.includes('123456789'),
  );
  assert.throws(
    () => validateConfig({ admin: { enable: true } }, 'test.yaml'),
    /unknown key \(did you mean enabled\?\)/,
  );
});

test('loco start refuses a dashboard with an empty token, saying how to set LOCO_ADMIN_TOKEN', async () => {
  const root = copyFixtureApp('ops-app');
  try {
    const env = {
      LOCO_TEST_QUEUE_KIND: 'Sqlite',
      LOCO_TEST_QUEUE_URI: `sqlite://${root}/queue.sqlite?mode=rwc`,
      LOCO_ADMIN_TOKEN: '',
    };
    const refused = await runStart(root, env);
    assert.is(refused.code, 1);
    assert.match(refused.output, 'admin.enabled is true but admin.token is empty');
    assert.match(refused.output, 'Set the LOCO_ADMIN_TOKEN environment variable');
    assert.not.match(refused.output, 'listening on');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
