// Redis URIs, redis:// and redis+cluster://: the nodes, credentials, TLS, prefix and parameters read exactly, the
// password never shown, and anything else refused naming what is wrong. No server needed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConnectionError } from '../../../runtime/src/internals.js';
import { parseRedisUri } from '../../../runtime/src/queue/redis/uri.js';

const test = suite('Redis URIs');

/** Each URI is refused with a `QueueConnectionError` matching its pattern, which never shows the password. */
function assertRefused(refusals: Array<[string, RegExp]>): void {
  for (const [uri, expected] of refusals) {
    try {
      parseRedisUri(uri);
      assert.unreachable(`${uri}: should be refused`);
    } catch (err) {
      assert.instance(err, QueueConnectionError, uri);
      assert.match((err as Error).message, expected, uri);
      assert.not.match((err as Error).message, 's3', `${uri}: no password`);
    }
  }
}

test('the nodes, credentials, TLS, prefix and parameters are read; the display hides the password', () => {
  assert.equal(parseRedisUri('redis+cluster://127.0.0.1:7000,127.0.0.1:7001'), {
    options: {},
    db: 0,
    prefix: 'loco',
    display: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
    nodes: [
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ],
  });
  const full = parseRedisUri(
    'rediss+cluster://app:s3%40cret@cache-1.internal:6380,[::1]:6381,cache-3/0?prefix=myapp&connectTimeout=500',
  );
  assert.equal(full.nodes, [
    { host: 'cache-1.internal', port: 6380 },
    { host: '::1', port: 6381 },
    { host: 'cache-3', port: 6379 },
  ]);
  assert.equal(full.options, { username: 'app', password: 's3@cret', tls: {}, connectTimeout: 500 });
  assert.is(full.prefix, 'myapp');
  assert.is(
    full.display,
    'rediss+cluster://app@cache-1.internal:6380,[::1]:6381,cache-3/0?prefix=myapp&connectTimeout=500',
  );
  assert.is(parseRedisUri('redis+cluster://:s3cret@a:1').options.password, 's3cret');
  assert.is(parseRedisUri('redis://127.0.0.1').nodes, undefined, 'redis:// is one server');
});

test('a node list, path, fragment or parameter that cannot be taken exactly is refused, without the password', () => {
  const refusals: Array<[string, RegExp]> = [
    ['redis+cluster://:s3cret@', /names no node; write it as redis\+cluster:\/\/host:7000,host:7001/],
    ['redis+cluster://:s3cret@a:7000,,b:7001', /has the node '' in its node list; write each node as host:port/],
    ['redis+cluster://:s3cret@a:7000,b:99999', /has the node 'b:99999'/],
    ['redis+cluster://:s3cret@a:7000,b:x', /has the node 'b:x'/],
    ['redis+cluster://:s3cret@a:7000/2', /has the path '\/2'; a Redis Cluster has database 0 only/],
    ['redis+cluster://:s3cret@a:7000#top', /has a #fragment/],
    ['redis+cluster://:s3cret@a:7000?prefix=app:one', /has the prefix 'app:one', which contains ':'/],
    ['redis+cluster://:s3cret@a:7000?prefix=', /has an empty prefix/],
    ['redis+cluster://:s3cret@a:7000?db=1', /has the parameter 'db', which this queue does not read/],
    ['redis+cluster://:s3cret@a:7000?connectTimeout=soon', /has connectTimeout=soon; expected a whole number/],
    ['redis+cluster://u:s3%zz@a:7000', /has a % in its user or password/],
    ['redis+cluster:/a:7000', /cannot be read; write a Redis Cluster as redis\+cluster:\/\/host:7000,host:7001/],
  ];
  assertRefused(refusals);
});

test('a URI without prefix uses loco:, and the password never shows in errors', () => {
  assert.equal(parseRedisUri('redis://127.0.0.1:6379/2'), {
    options: { host: '127.0.0.1', port: 6379, db: 2 },
    db: 2,
    prefix: 'loco',
    display: 'redis://127.0.0.1:6379/2',
  });
  const withSecret = parseRedisUri('rediss://app:s3cret@cache.internal:6380/0?prefix=myapp&family=6');
  assert.is(withSecret.prefix, 'myapp');
  assert.equal(withSecret.options, {
    host: 'cache.internal',
    port: 6380,
    db: 0,
    username: 'app',
    password: 's3cret',
    tls: {},
    family: 6,
  });
  assert.is(withSecret.display, 'rediss://app@cache.internal:6380/0?prefix=myapp&family=6');
  assert.equal(parseRedisUri('redis://[::1]').options, { host: '::1', port: 6379, db: 0 });
  try {
    parseRedisUri('http://:s3cret@127.0.0.1');
    assert.unreachable('should refuse');
  } catch (err) {
    assert.match((err as Error).message, 'use redis:// (or rediss:// for TLS)');
    assert.not.match((err as Error).message, 's3cret');
  }
  assert.throws(
    () => parseRedisUri('redis://127.0.0.1?prefix=app:staging'),
    /has the prefix 'app:staging', which contains ':'.*e\.g\. \?prefix=app-staging/,
    "a prefix with ':' is refused: prefix app would own its keys and flush them",
  );
});

test('the path is a database number and the parameters are typed, else the URI is refused naming what is wrong', () => {
  const refusals: Array<[string, RegExp]> = [
    [
      'redis://:s3cret@127.0.0.1/abc',
      /has the path '\/abc'; the path of a Redis URI is the database number and nothing else/,
    ],
    ['redis://:s3cret@127.0.0.1/-1', /has the path '\/-1'/],
    ['redis://:s3cret@127.0.0.1/1/2', /has the path '\/1\/2'/],
    ['redis://:s3cret@127.0.0.1/99999999999', /has the path '\/99999999999'/],
    [
      'redis://:s3cret@127.0.0.1/0?connectTimeout=abc',
      /has connectTimeout=abc; expected a whole number of milliseconds, such as connectTimeout=5000\./,
    ],
    ['redis://:s3cret@127.0.0.1/0?noDelay=yes', /has noDelay=yes; expected true or false\./],
    ['redis://:s3cret@127.0.0.1/0?family=5', /has family=5; expected 4 \(IPv4\), 6 \(IPv6\) or 0/],
    [
      'redis://:s3cret@127.0.0.1/0?db=2',
      /has the parameter 'db', which this queue does not read.*the database is the path/,
    ],
    ['redis://:s3cret@127.0.0.1/0?conectTimeout=5', /has the parameter 'conectTimeout'/],
    ['redis://:s3cret@127.0.0.1/0?prefix=a&prefix=b', /gives prefix twice/],
    ['redis://u:s3%zz@127.0.0.1/0', /has a % in its user or password that is not followed by two hex digits/],
    ['redis:///0', /names no host/],
    ['redis://:s3cret@:6379/0', /Cannot read the Redis URI 'redis:\/\/:6379\/0'; write it as redis:\/\/host:6379\/0/],
  ];
  assertRefused(refusals);
  assert.is(parseRedisUri('redis://127.0.0.1/0?connectTimeout=250&noDelay=false').options.connectTimeout, 250);
  assert.is(parseRedisUri('redis://127.0.0.1/0?connectTimeout=250&noDelay=false').options.noDelay, false);
});

test.run();
