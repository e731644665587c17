// Tests for src/host-check.ts: which Host headers a server answers (DNS-rebinding defence).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostName, hostPolicyFor, isHostAllowed, isLoopbackAddress } from '../src/host-check.js';

const policy = suite('hostPolicyFor');

policy('hostPolicyFor() checks Host for loopback binds', () => {
  for (const bind of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '::ffff:127.0.0.1', 'LOCALHOST']) {
    assert.equal(hostPolicyFor(bind, undefined), { kind: 'loopback' }, bind);
  }
});

policy('hostPolicyFor() accepts any Host for shared binds', () => {
  for (const bind of ['::', '0.0.0.0', '192.168.1.5', 'fd00::2']) {
    assert.equal(hostPolicyFor(bind, undefined), { kind: 'any' }, bind);
  }
});

policy('hostPolicyFor() uses the allowed list whatever the bind', () => {
  assert.equal(hostPolicyFor('::', ['example.test']), { kind: 'list', hosts: ['example.test'] });
  assert.equal(hostPolicyFor('127.0.0.1', ['example.test']), { kind: 'list', hosts: ['example.test'] });
});

policy('isLoopbackAddress() knows loopback addresses only', () => {
  assert.ok(isLoopbackAddress('127.0.0.1'));
  assert.ok(isLoopbackAddress('::1'));
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

allowed('isHostAllowed() accepts anything on a shared bind', () => {
  const any = hostPolicyFor('::', undefined);
  assert.ok(isHostAllowed(any, 'evil.example'));
  assert.ok(isHostAllowed(any, '192.168.1.10:8000'));
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
