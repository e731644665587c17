// Tests for src/options.ts: raw flags → validated Options with defaults.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALL_HOSTS, DEFAULT_PORT, LOOPBACK_HOST, parseAppMount, parseOptions, type RawFlags } from '../src/options.js';
import { UsageError } from '../src/errors.js';

function usageError(raw: RawFlags, message: RegExp): void {
  try {
    parseOptions(raw);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.is((error as UsageError).exitCode, 2);
    assert.match((error as UsageError).message, message);
    return;
  }
  assert.unreachable(`parseOptions(${JSON.stringify(raw)}) did not throw`);
}

const defaults = suite('defaults');

defaults('parseOptions() fills in the safe defaults', () => {
  const o = parseOptions({});
  assert.is(o.dir, '.');
  assert.is(o.port, DEFAULT_PORT);
  assert.is(o.port, 8000);
  assert.is(o.portExplicit, false);
  assert.is(o.host, LOOPBACK_HOST);
  assert.is(o.host, '127.0.0.1');
  assert.is(o.allowedHosts, undefined);
  assert.is(o.cors, false);
  assert.is(o.spa, false);
  assert.is(o.dotfiles, false);
  assert.is(o.listing, true);
  assert.is(o.quiet, false);
  assert.is(o.log, 'dev');
  assert.is(o.open, false);
  assert.equal(o.apps, []);
  assert.is(o.watch, true);
  assert.is(o.workers, 1);
});

defaults('parseOptions() passes booleans through', () => {
  const o = parseOptions({ cors: true, spa: true, dotfiles: true, listing: false, quiet: true, open: true, watch: false, log: 'json' });
  assert.equal([o.cors, o.spa, o.dotfiles, o.listing, o.quiet, o.open, o.watch, o.log], [true, true, true, false, true, true, false, 'json']);
});

defaults.run();

const folder = suite('folder');

folder('parseOptions() takes the folder from the argument or --directory', () => {
  assert.is(parseOptions({ dir: 'pub' }).dir, 'pub');
  assert.is(parseOptions({ directory: 'pub' }).dir, 'pub');
  assert.is(parseOptions({ dir: 'pub', directory: 'pub' }).dir, 'pub');
});

folder('parseOptions() refuses two different folders', () => {
  usageError({ dir: 'a', directory: 'b' }, /Two folders given: "a" and --directory "b"/);
});

folder.run();

const port = suite('port');

port('parseOptions() accepts ports 0 to 65535 and marks them explicit', () => {
  for (const p of ['0', '80', '8000', '65535']) {
    const o = parseOptions({ port: p });
    assert.is(o.port, Number(p));
    assert.is(o.portExplicit, true);
  }
});

port('parseOptions() refuses bad ports', () => {
  for (const p of ['70000', '65536', '-1', 'abc', '', '80.5', '0x50', '123456', ' 80']) {
    usageError({ port: p }, /^Invalid port/);
  }
});

port.run();

const host = suite('host');

host('parseOptions() binds all interfaces for a bare --host', () => {
  assert.is(parseOptions({ host: true }).host, ALL_HOSTS);
  assert.is(ALL_HOSTS, '::');
});

host('parseOptions() takes an address from --host or --bind, brackets removed', () => {
  assert.is(parseOptions({ host: '0.0.0.0' }).host, '0.0.0.0');
  assert.is(parseOptions({ host: '[::1]' }).host, '::1');
  assert.is(parseOptions({ bind: '192.168.1.5' }).host, '192.168.1.5');
});

host('parseOptions() refuses --host with --bind, and malformed addresses', () => {
  usageError({ host: true, bind: '::' }, /either --host or --bind/);
  usageError({ host: 'a b' }, /Invalid --host address/);
  usageError({ bind: 'x/y' }, /Invalid --bind address/);
  usageError({ host: '' }, /Invalid --host address/);
});

host('parseOptions() splits --allowed-hosts into lower-case names', () => {
  assert.equal(parseOptions({ allowedHosts: 'Example.test, .corp.test,' }).allowedHosts, ['example.test', '.corp.test']);
  usageError({ allowedHosts: ' , ' }, /needs at least one host name/);
});

host.run();

const other = suite('log, apps, workers');

other('parseOptions() refuses an unknown log format or app style', () => {
  usageError({ log: 'xml' }, /Unknown log format "xml"/);
  usageError({ appStyle: 'cgi' }, /Unknown app style "cgi"/);
  assert.is(parseOptions({ appStyle: 'wsgi' }).appStyle, 'wsgi');
});

other('parseAppMount() reads [prefix=]file', () => {
  assert.equal(parseAppMount('app.ts'), { prefix: '', file: 'app.ts' });
  assert.equal(parseAppMount('/api=api.ts'), { prefix: '/api', file: 'api.ts' });
  assert.equal(parseAppMount('/api/=api.ts'), { prefix: '/api', file: 'api.ts' });
  assert.equal(parseAppMount('/=root.ts'), { prefix: '', file: 'root.ts' });
  assert.equal(parseAppMount('a=b.ts'), { prefix: '', file: 'a=b.ts' });
});

other('parseAppMount() refuses an empty file and a prefix that is not a plain path', () => {
  for (const bad of ['', '/api=', '/a/../b=x.ts', '//evil=x.ts', '/a?b=x.ts', '/a%2f=x.ts', '/a b=x.ts', '/a\\b=x.ts']) {
    assert.throws(() => parseAppMount(bad), (e: unknown) => e instanceof UsageError, bad);
  }
});

other('parseOptions() refuses two apps at one prefix', () => {
  usageError({ app: ['/api=a.ts', '/api/=b.ts'] }, /Two apps mounted at "\/api"/);
  usageError({ app: ['a.ts', 'b.ts'] }, /Two apps mounted at "\/"/);
});

other('parseOptions() checks --workers', () => {
  assert.is(parseOptions({ workers: '4', app: ['a.ts'], watch: false }).workers, 4);
  usageError({ workers: '0', app: ['a.ts'], watch: false }, /Invalid --workers/);
  usageError({ workers: 'many' }, /Invalid --workers/);
  usageError({ workers: '2' }, /--workers needs --app/);
  usageError({ workers: '2', app: ['a.ts'] }, /--workers needs --no-watch/);
});

other('parseOptions() refuses app-only flags without --app, with a hint showing them used', () => {
  usageError({ workers: '1' }, /^--workers needs --app$/);
  usageError({ envFile: '.env' }, /^--env-file needs --app$/);
  try {
    parseOptions({ envFile: '.env' });
  } catch (error) {
    assert.match((error as UsageError).hint ?? '', /serve-here --app app\.ts --env-file \.env/);
  }
  assert.is(parseOptions({ envFile: '.env', app: ['a.ts'] }).envFile, '.env');
});

other.run();
