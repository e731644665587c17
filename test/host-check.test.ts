// Tests for src/host-check.ts: which Host headers a server answers (DNS-rebinding defence).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkHost, hostName, hostPolicyFor, isHostAllowed, isLoopbackAddress, parseHost } from '../src/host-check.js';

const policy = suite('hostPolicyFor');

policy('hostPolicyFor() checks Host for loopback binds', () => {
  for (const bind of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '::ffff:127.0.0.1', 'LOCALHOST', '0:0:0:0:0:0:0:1']) {
    assert.ok(hostPolicyFor(bind, undefined).loopback, bind);
  }
});

policy('hostPolicyFor() knows shared binds, and adds this machine\'s name to them only', () => {
  for (const bind of ['::', '0.0.0.0', '192.168.1.5', 'fd00::2']) {
    const p = hostPolicyFor(bind, undefined, 'mybox');
    assert.not.ok(p.loopback, bind);
    assert.ok(p.names.has('mybox') && p.names.has('mybox.local'), bind);
  }
  assert.not.ok(hostPolicyFor('127.0.0.1', undefined, 'mybox').names.has('mybox'));
});

policy('hostPolicyFor() uses the allowed list whatever the bind', () => {
  assert.ok(hostPolicyFor('::', ['example.test']).names.has('example.test'));
  assert.ok(hostPolicyFor('127.0.0.1', ['example.test']).names.has('example.test'));
});

policy('isLoopbackAddress() knows loopback addresses only', () => {
  assert.ok(isLoopbackAddress('127.0.0.1'));
  assert.ok(isLoopbackAddress('::1'));
  assert.ok(isLoopbackAddress('0:0:0:0:0:0:0:1'));
  assert.ok(isLoopbackAddress('::ffff:127.0.0.1'));
  assert.not.ok(isLoopbackAddress('::'));
  assert.not.ok(isLoopbackAddress('0.0.0.0'));
  assert.not.ok(isLoopbackAddress('10.0.0.1'));
});

policy.run();

const name = suite('hostName');

name('hostName() strips the port and lower-cases', () => {
  assert.is(hostName('LocalHost:8000'), 'localhost');
  assert.is(hostName('example.test'), 'example.test');
  assert.is(hostName(' 127.0.0.1:80 '), '127.0.0.1');
});

name('hostName() unwraps bracketed IPv6', () => {
  assert.is(hostName('[::1]:80'), '::1');
  assert.is(hostName('[::1]'), '::1');
  assert.is(hostName('[fd00::2]:8000'), 'fd00::2');
});

name.run();

const allowed = suite('isHostAllowed');
const loopback = hostPolicyFor('127.0.0.1', undefined);

allowed('isHostAllowed() accepts loopback names on a loopback bind', () => {
  for (const host of ['localhost', 'localhost:1234', '127.0.0.1', '127.0.0.1:8000', '127.1.2.3', '[::1]:80', '[::1]', 'app.localhost', 'a.b.localhost:3000', 'LOCALHOST']) {
    assert.ok(isHostAllowed(loopback, host), host);
  }
});

allowed('isHostAllowed() refuses other names on a loopback bind (DNS rebinding)', () => {
  for (const host of ['evil.example', 'evil.example:8000', 'localhost.evil.example', '127.0.0.1.evil.example', 'notlocalhost', '192.168.1.10', '[::2]', '0.0.0.0', '', 'evil.example@localhost']) {
    assert.not.ok(isHostAllowed(loopback, host), host);
  }
});

allowed('isHostAllowed() allows a request without Host (HTTP/1.0)', () => {
  assert.ok(isHostAllowed(loopback, undefined));
});

allowed('isHostAllowed() on a shared bind: IP literals and this machine, never other names', () => {
  const shared = hostPolicyFor('::', undefined, 'mybox');
  for (const host of ['192.168.1.10:8000', '10.0.0.7', '[fd00::2]:80', 'mybox', 'MyBox.local:8000', 'localhost']) {
    assert.ok(isHostAllowed(shared, host), host);
  }
  for (const host of ['evil.example', 'mybox.evil.example', 'evil.local']) assert.not.ok(isHostAllowed(shared, host), host);
});

allowed('isHostAllowed() with a list accepts the names, subdomains of .names, and loopback', () => {
  const list = hostPolicyFor('::', ['example.test', '.corp.test']);
  for (const host of ['example.test', 'example.test:8000', 'a.corp.test', 'b.a.corp.test:1', 'localhost', '127.0.0.1', '[::1]:8000']) {
    assert.ok(isHostAllowed(list, host), host);
  }
  for (const host of ['evil.example', 'sub.example.test', 'example.test.evil.example', 'corp.test', 'evilcorp.test']) {
    assert.not.ok(isHostAllowed(list, host), host);
  }
});

allowed.run();

const syntax = suite('parseHost / checkHost');

syntax('parseHost() refuses malformed Host values', () => {
  for (const host of ['localhost:1/admin?', 'localhost:abc', 'localhost:99999', 'a b', '[::1', '[nope]:80', 'localhost:80:80', 'user@localhost', 'localhost/x', '1.2.3.4.5', '']) {
    assert.is(parseHost(host), undefined, host);
  }
});

syntax('parseHost() gives validated parts to build URLs from', () => {
  assert.equal(parseHost('LocalHost:8000'), { kind: 'name', name: 'localhost', port: '8000', host: 'localhost:8000' });
  assert.equal(parseHost('[::1]:80'), { kind: 'ipv6', name: '::1', port: '80', host: '[::1]:80' });
  assert.equal(parseHost('127.0.0.1'), { kind: 'ipv4', name: '127.0.0.1', port: '', host: '127.0.0.1' });
});

syntax('checkHost() answers 400 for bad syntax and 403 naming --allowed-hosts for strangers', () => {
  const loop = hostPolicyFor('127.0.0.1', undefined);
  const bad = checkHost(loop, 'localhost:1/admin?');
  assert.is(bad.ok ? 0 : bad.status, 400);
  const stranger = checkHost(loop, 'evil.example');
  assert.is(stranger.ok ? 0 : stranger.status, 403);
  assert.match(stranger.ok ? '' : stranger.reason, '--allowed-hosts evil.example');
});

syntax.run();
