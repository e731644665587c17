// Tests for src/share/tls.ts, certificate.ts and der.ts: a hand-encoded self-signed certificate,
// checked by a real TLS client against each of its names, cached in a temp config folder.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type PeerCertificate } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ServeHereError } from '../src/errors.js';
import { createSelfSigned, ipBytes } from '../src/share/certificate.js';
import { oid, smallInteger, time, tlv, unsignedInteger } from '../src/share/der.js';
import { defaultConfigDir, defaultNames, loadOrCreateCertificate, loadOwnCertificate } from '../src/share/tls.js';

const NAMES = ['localhost', 'myhost.test', 'myhost.local'];
const ADDRESSES = ['127.0.0.1', '::1', '192.168.77.5', 'fd00::7'];

// --- DER ------------------------------------------------------------------------------------------

const der = suite('der');

der('oid() encodes ecdsa-with-SHA256 as in RFC 5758', () => {
  assert.is(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
});

der('tlv() uses the long length form from 128 bytes', () => {
  assert.is(tlv(0x04, Buffer.alloc(127)).subarray(0, 2).toString('hex'), '047f');
  assert.is(tlv(0x04, Buffer.alloc(200)).subarray(0, 3).toString('hex'), '0481c8');
  assert.is(tlv(0x04, Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
});

der('unsignedInteger() stays positive and minimal', () => {
  assert.is(unsignedInteger(Buffer.from([0x80])).toString('hex'), '02020080');
  assert.is(unsignedInteger(Buffer.from([0, 0, 5])).toString('hex'), '020105');
  assert.is(smallInteger(2).toString('hex'), '020102');
  assert.is(smallInteger(0).toString('hex'), '020100');
});

der('time() switches from UTCTime to GeneralizedTime in 2050 (RFC 5280)', () => {
  assert.is(time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2), '491231235959Z');
  assert.is(time(new Date('2049-12-31T23:59:59Z'))[0], 0x17);
  assert.is(time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2), '20500101000000Z');
  assert.is(time(new Date('2050-01-01T00:00:00Z'))[0], 0x18);
});

der('ipBytes() reads IPv4, IPv6 in any spelling, and drops junk', () => {
  assert.is(ipBytes('192.168.1.2')?.toString('hex'), 'c0a80102');
  assert.is(ipBytes('::1')?.toString('hex'), '00000000000000000000000000000001');
  assert.is(ipBytes('fe80::1%eth0')?.toString('hex'), 'fe800000000000000000000000000001');
  assert.is(ipBytes('::ffff:1.2.3.4')?.toString('hex'), '00000000000000000000ffff01020304');
  assert.is(ipBytes('2001:db8::')?.toString('hex'), '20010db8000000000000000000000000');
  assert.is(ipBytes('1:2:3:4:5:6:7:8')?.toString('hex'), '00010002000300040005000600070008');
  assert.is(ipBytes('localhost'), undefined);
  assert.is(ipBytes('1.2.3'), undefined);
});

der.run();

// --- the certificate --------------------------------------------------------------------------------

const cert = suite('createSelfSigned');

cert('createSelfSigned() makes a v3 ECDSA certificate Node and OpenSSL parse and verify', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const { key, cert: pem } = createSelfSigned({ names: NAMES, addresses: ADDRESSES, now });
  const x = new X509Certificate(pem);
  assert.is(x.subject, 'CN=serve-here');
  assert.is(x.issuer, 'CN=serve-here');
  assert.ok(x.verify(x.publicKey), 'self-signature verifies');
  assert.not.ok(x.ca);
  assert.equal(x.keyUsage, ['1.3.6.1.5.5.7.3.1']); // Node names the extended key usage this way
  assert.is(x.publicKey.asymmetricKeyType, 'ec');
  assert.is(Date.parse(x.validFrom), now.getTime() - 3600_000);
  assert.is(Date.parse(x.validTo), now.getTime() + 365 * 86_400_000);
  assert.match(x.subjectAltName ?? '', /DNS:localhost, DNS:myhost\.test, DNS:myhost\.local, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
});

cert.run();

// --- a real TLS client against each name --------------------------------------------------------------

const client = suite('TLS client');
const ctx = {} as { server: https.Server; port: number; cert: string; dir: string };

client.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'serve-here-tls-'));
  const material = loadOrCreateCertificate({ configDir: join(ctx.dir, 'config'), names: NAMES, addresses: ADDRESSES });
  ctx.cert = material.cert;
  ctx.server = https.createServer({ key: material.key, cert: material.cert }, (_req, res) => res.end('hello over TLS'));
  ctx.server.listen(0, '127.0.0.1');
  await once(ctx.server, 'listening');
  const addr = ctx.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('Expected a TCP address');
  ctx.port = addr.port;
});

client.after(() => {
  ctx.server.closeAllConnections();
  ctx.server.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

/**
 * tls.checkServerIdentity, except for IP addresses, which X509Certificate.checkIP matches: Node
 * 22.23's checkServerIdentity compares an IPv6 address as text, so `::1` misses the certificate's
 * `0:0:0:0:0:0:0:1` (the same entry; Node 20 and 24 match it).
 */
function verifyIdentity(identity: string, peer: PeerCertificate): Error | undefined {
  if (ipBytes(identity) === undefined) return tls.checkServerIdentity(identity, peer);
  if (new X509Certificate(peer.raw).checkIP(identity) !== undefined) return undefined;
  return Object.assign(new Error(`IP ${identity} is not in the certificate`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}

/** Connect, trusting only our certificate, and check the peer against `identity` (a DNS name or IP). */
async function connectAs(identity: string, trust = true): Promise<{ ok: true; peer: PeerCertificate } | { ok: false; code: string }> {
  const isName = ipBytes(identity) === undefined;
  const socket = tls.connect({
    host: '127.0.0.1',
    port: ctx.port,
    ...(trust ? { ca: ctx.cert } : {}),
    ...(isName ? { servername: identity } : {}), // SNI takes names only (RFC 6066 §3)
    checkServerIdentity: (_host, peer) => verifyIdentity(identity, peer),
  });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]: unknown[]) => Promise.reject(e))]);
    return { ok: true, peer: socket.getPeerCertificate() };
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : String(error);
    return { ok: false, code };
  } finally {
    socket.destroy();
  }
}

client('a TLS client verifies the certificate for every DNS name and IP address in it', async () => {
  for (const identity of [...NAMES, ...ADDRESSES]) {
    const r = await connectAs(identity);
    assert.ok(r.ok, `${identity}: ${r.ok ? '' : r.code}`);
    if (r.ok) assert.is(verifyIdentity(identity, r.peer), undefined, identity);
  }
});

client('a TLS client refuses a name or address the certificate does not cover', async () => {
  for (const identity of ['other.test', 'sub.myhost.test', '10.9.9.9', '::2']) {
    const r = await connectAs(identity);
    assert.equal(r, { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, identity);
  }
});

client('a TLS client that does not trust the certificate refuses it (self-signed)', async () => {
  const r = await connectAs('localhost', false);
  assert.equal(r, { ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
});

client('an HTTPS request with the default identity check gets the page', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: ctx.port, path: '/', ca: ctx.cert, servername: 'myhost.test' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  assert.is(body, 'hello over TLS');
});

client.run();

// --- caching and own certificates ------------------------------------------------------------------------

const cache = suite('loadOrCreateCertificate');
const tmp = { dir: '' };
cache.before.each(() => {
  tmp.dir = mkdtempSync(join(tmpdir(), 'serve-here-tls-'));
});
cache.after.each(() => rmSync(tmp.dir, { recursive: true, force: true }));

cache('loadOrCreateCertificate() saves once, then reuses (key 0600, folder 0700)', () => {
  const configDir = join(tmp.dir, 'xdg', 'serve-here');
  const first = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES });
  assert.ok(first.created);
  assert.is(first.fingerprint, new X509Certificate(first.cert).fingerprint256);
  assert.match(first.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.is(first.warning, undefined);
  assert.is(statSync(join(configDir, 'https-key.pem')).mode & 0o777, 0o600);
  assert.is(statSync(configDir).mode & 0o777, 0o700);
  const second = loadOrCreateCertificate({ configDir, names: ['LOCALHOST'], addresses: ['0:0:0:0:0:0:0:1', '192.168.77.5'] });
  assert.not.ok(second.created);
  assert.is(second.cert, first.cert);
  assert.is(second.key, first.key);
});

cache('loadOrCreateCertificate() regenerates for a new address and keeps covering the old ones', () => {
  const configDir = join(tmp.dir, 'c');
  const first = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES });
  const moved = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ['127.0.0.1', '10.1.2.3'] });
  assert.ok(moved.created);
  assert.is.not(moved.fingerprint, first.fingerprint);
  const x = new X509Certificate(moved.cert);
  for (const ip of ['10.1.2.3', '192.168.77.5', '::1']) assert.is(x.checkIP(ip), ip);
  const back = loadOrCreateCertificate({ configDir, names: ['myhost.test'], addresses: ['192.168.77.5'] });
  assert.not.ok(back.created, 'back on the first network: no new certificate');
  assert.ok(loadOrCreateCertificate({ configDir, names: ['new.test'], addresses: [] }).created, 'new name');
});

cache('loadOrCreateCertificate() renews a certificate with less than 30 days left', () => {
  const configDir = join(tmp.dir, 'c');
  const first = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES });
  const later = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES, now: new Date(Date.now() + 300 * 86_400_000) });
  assert.not.ok(later.created, '65 days left');
  const renewed = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES, now: new Date(Date.now() + 340 * 86_400_000) });
  assert.ok(renewed.created, '25 days left');
  assert.is.not(renewed.fingerprint, first.fingerprint);
});

cache('loadOrCreateCertificate() replaces a damaged or mismatched cache', () => {
  const configDir = join(tmp.dir, 'c');
  loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES });
  writeFileSync(join(configDir, 'https-key.pem'), createSelfSigned({ names: NAMES, addresses: [] }).key);
  assert.ok(loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES }).created, 'mismatched key');
  writeFileSync(join(configDir, 'https-cert.pem'), 'garbage');
  const fixed = loadOrCreateCertificate({ configDir, names: NAMES, addresses: ADDRESSES });
  assert.ok(fixed.created, 'garbage certificate');
  assert.is(readFileSync(join(configDir, 'https-cert.pem'), 'utf8'), fixed.cert);
});

cache('loadOrCreateCertificate() still serves when the folder cannot be written, with a warning', () => {
  const blocker = join(tmp.dir, 'file');
  writeFileSync(blocker, '');
  const r = loadOrCreateCertificate({ configDir: join(blocker, 'serve-here'), names: NAMES, addresses: ADDRESSES });
  assert.ok(r.created);
  assert.match(r.warning ?? '', /Could not save the HTTPS certificate/);
});

cache('defaultConfigDir() follows XDG_CONFIG_HOME, else ~/.config', () => {
  assert.is(defaultConfigDir({ XDG_CONFIG_HOME: '/x/cfg' }), '/x/cfg/serve-here');
  assert.match(defaultConfigDir({ XDG_CONFIG_HOME: 'relative' }), /\.config\/serve-here$/);
  assert.match(defaultConfigDir({}), /\.config\/serve-here$/);
});

cache('defaultNames() covers localhost, loopback, this machine and every LAN IPv4 address', () => {
  const { names, addresses } = defaultNames();
  assert.ok(names.includes('localhost'));
  assert.ok(names.includes(hostname().toLowerCase()));
  assert.ok(addresses.includes('127.0.0.1') && addresses.includes('::1'));
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) if (!ni.internal && ni.family === 'IPv4') assert.ok(addresses.includes(ni.address), ni.address);
  }
});

cache('loadOwnCertificate() accepts a matching pair and explains a bad one', () => {
  const a = createSelfSigned({ names: ['localhost'], addresses: [] });
  const b = createSelfSigned({ names: ['localhost'], addresses: [] });
  const file = (name: string, text: string): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, text);
    return p;
  };
  const own = loadOwnCertificate(file('a.crt', a.cert), file('a.key', a.key));
  assert.is(own.fingerprint, new X509Certificate(a.cert).fingerprint256);
  assert.not.ok(own.created);
  const fails = (fn: () => unknown, re: RegExp): void => {
    try {
      fn();
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, ServeHereError);
      assert.match((error as Error).message, re);
    }
  };
  fails(() => loadOwnCertificate(join(tmp.dir, 'missing.crt'), file('k', a.key)), /Cannot read certificate ".*missing\.crt": no such file/);
  fails(() => loadOwnCertificate(file('a.crt', a.cert), file('b.key', b.key)), /do not belong together/);
  fails(() => loadOwnCertificate(file('junk.crt', 'junk'), file('a.key', a.key)), /not a PEM certificate/);
  fails(() => loadOwnCertificate(file('a.crt', a.cert), file('junk.key', 'junk')), /not a PEM private key/);
});

cache.run();
