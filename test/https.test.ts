// --https end to end: the CLI makes (or reuses) its certificate in the config folder, prints the
// fingerprint, and a real TLS client that verifies the certificate's names gets the page.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { join } from 'node:path';
import { makeTree, removeTree, spawnCli } from './helpers/server.js';

const tls = suite('--https');

function get(port: number, ca: string, servername: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/a.txt', ca, servername, headers: { Host: host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

tls('--https serves TLS with a cached self-signed certificate whose fingerprint the banner prints', async () => {
  const dir = await makeTree({ 'a.txt': 'over tls' });
  const config = await makeTree({});
  const p = spawnCli([dir, '--https', '--port', '0'], { env: { XDG_CONFIG_HOME: config } });
  try {
    const m = await p.waitFor(/https:\/\/(127\.0\.0\.1):(\d+)\//, 15_000);
    const port = Number(m[2]);
    const cert = await readFile(join(config, 'serve-here', 'https-cert.pem'), 'utf8');
    const fingerprint = new X509Certificate(cert).fingerprint256;
    await p.waitFor(new RegExp(fingerprint.replace(/:/g, ':')), 5000);
    // The client verifies the chain (our certificate as the only CA) and the name, for an IP and for localhost.
    assert.equal(await get(port, cert, '127.0.0.1', `127.0.0.1:${port}`), { status: 200, body: 'over tls' });
    assert.equal(await get(port, cert, 'localhost', `localhost:${port}`), { status: 200, body: 'over tls' });
    let refused = false;
    await get(port, cert, 'not-this-host.example', `localhost:${port}`).catch(() => (refused = true));
    assert.ok(refused, 'a name the certificate does not cover fails verification');
  } finally {
    await p.stop();
    await removeTree(dir);
    await removeTree(config);
  }
});

tls.run();
