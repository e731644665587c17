// Tests for src/banner.ts: the startup lines (one plain line when not a TTY) and local URLs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AddressInfo } from 'node:net';
import { localUrl, networkUrls, printBanner, type BannerInfo } from '../src/banner.js';
import { createLogger } from '../src/log.js';
import { Capture } from './helpers/server.js';

const addr = (address: string, port = 8000): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });

function banner(over: Partial<BannerInfo>, err = new Capture()): string {
  const out = new Capture();
  const log = createLogger({ out, err, color: false });
  printBanner(log, { version: '1.2.3', dir: '/srv/site', address: addr('127.0.0.1'), movedFrom: undefined, dotfiles: false, tty: false, apps: [], ...over });
  return out.text;
}

const WARNINGS = ['--cors: any website open in your browser can read this folder', 'apps run with NODE_ENV=production because the server is shared'];

const urls = suite('urls');

urls('localUrl() opens localhost for all-interface binds and brackets IPv6', () => {
  assert.is(localUrl(addr('127.0.0.1', 8000)), 'http://127.0.0.1:8000/');
  assert.is(localUrl(addr('::', 8001)), 'http://localhost:8001/');
  assert.is(localUrl(addr('0.0.0.0', 8002)), 'http://localhost:8002/');
  assert.is(localUrl(addr('::1', 8003)), 'http://[::1]:8003/');
});

urls('networkUrls() lists only non-internal IPv4 addresses', () => {
  for (const u of networkUrls(9000)) {
    assert.match(u, /^http:\/\/\d+\.\d+\.\d+\.\d+:9000\/$/);
    assert.not.ok(u.startsWith('http://127.'));
  }
});

urls.run();

const plain = suite('printBanner (not a TTY)');

plain('printBanner() prints one line with version, folder and URL', () => {
  assert.is(banner({}), 'serve-here 1.2.3: serving /srv/site at http://127.0.0.1:8000/\n');
});

plain('printBanner() says when the default port was busy', () => {
  assert.is(banner({ address: addr('127.0.0.1', 8001), movedFrom: 8000 }), 'serve-here 1.2.3: serving /srv/site at http://127.0.0.1:8001/ (port 8000 was busy, using 8001)\n');
});

plain('printBanner() says a shared server is shared, even without a LAN address', () => {
  const text = banner({ address: addr('::') });
  assert.is(text.split('\n').length, 2, text);
  assert.match(text, /at http:\/\/localhost:8000\/ \(/);
  assert.match(text, /network http:\/\/|shared on all interfaces/);
});

plain('printBanner() keeps the line single and puts each warning on stderr with a ⚠', () => {
  const err = new Capture();
  assert.is(banner({ warnings: WARNINGS }, err), 'serve-here 1.2.3: serving /srv/site at http://127.0.0.1:8000/\n');
  assert.is(err.text, WARNINGS.map((w) => `⚠ ${w}\n`).join(''));
});

plain('printBanner() without warnings writes nothing to stderr', () => {
  const err = new Capture();
  banner({}, err);
  banner({ warnings: [] }, err);
  assert.is(err.text, '');
});

plain.run();

const tty = suite('printBanner (TTY)');

tty('printBanner() on a TTY tells a loopback user how to share', () => {
  const text = banner({ tty: true });
  assert.ok(text.includes('Local:    http://127.0.0.1:8000/'), text);
  assert.ok(text.includes('Add --host to share'), text);
});

tty('printBanner() on a TTY warns when the folder is shared, and about dotfiles', () => {
  const text = banner({ tty: true, address: addr('::'), dotfiles: true, movedFrom: 7999 });
  assert.ok(text.includes('Shared with your network'), text);
  assert.ok(text.includes('(dotfiles served)'), text);
  assert.ok(text.includes('Note: port 7999 was busy, using 8000.'), text);
  assert.not.ok(text.includes('Add --host'), text);
});

tty('printBanner() on a TTY shows each warning in the banner, after the URLs', () => {
  const err = new Capture();
  const text = banner({ tty: true, warnings: WARNINGS }, err);
  const lines = text.split('\n');
  const local = lines.findIndex((l) => l.includes('Local:'));
  for (const w of WARNINGS) {
    const at = lines.indexOf(`  ⚠ ${w}`);
    assert.ok(at > local, text);
  }
  assert.is(err.text, '');
});

tty.run();
