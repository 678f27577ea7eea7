// redis+cluster:// URIs: the nodes, credentials, TLS, prefix and parameters read exactly, the
// password never shown, and anything else refused naming what is wrong. No server needed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConnectionError } from '../../../runtime/src/internals.js';
import { parseRedisUri } from '../../../runtime/src/queue/redis/uri.js';

const test = suite('redis+cluster:// URIs');

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
});

test.run();
