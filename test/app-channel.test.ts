// App connections as streams inside one socket pair per app process (src/app/channel.ts) and the
// relay of the app's answer (src/app/proxy.ts), end to end through the CLI with a real app process:
// clients that leave, answers bigger than the flow-control window, an app process that exits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { join } from 'node:path';
import { makeTree, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';

const WAIT_MS = 15_000;
/** A loaded machine can starve an app process's heartbeat: not what these tests are about. */
const PATIENT = { SERVE_HERE_BLOCKED_MS: '20000', SERVE_HERE_LOAD_STUCK_MS: '20000' };

const APP = `import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { writeSync } from 'node:fs';
let closed = 0;
let earlyClosed = 0;
let switchClosed = 0;
export default function (req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/stream') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first\\n');
    const more = setInterval(() => res.write('more\\n'), 20);
    res.on('close', () => {
      clearInterval(more);
      closed++;
    });
    return;
  }
  if (path === '/closed') return void res.end(String(closed));
  if (path === '/early') {
    // Answers before reading the body: the client may leave with most of it never sent.
    // Node never closes a server-side req whose body was left unread; its connection closing is
    // how the app learns the client is gone.
    let ends = 0;
    const ended = (): void => void (++ends === 2 && earlyClosed++);
    req.socket.on('close', ended);
    res.on('close', ended);
    return void res.end('early');
  }
  if (path === '/switch') {
    // 101 to a request that asked for no upgrade: not an answer the client can use.
    req.socket.on('close', () => switchClosed++);
    res.writeHead(101, { upgrade: 'websocket', connection: 'Upgrade' });
    return void res.end();
  }
  if (path === '/switch-closed') return void res.end(String(switchClosed));
  if (path === '/early-closed') return void res.end(String(earlyClosed));
  if (path === '/big') return void res.end(Buffer.alloc(4 * 1024 * 1024, 97));
  if (path === '/upload') {
    let n = 0;
    req.pause();
    const reading = setInterval(() => {
      req.resume();
      setTimeout(() => req.pause(), 2);
    }, 10);
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      clearInterval(reading);
      res.end(String(n));
    });
    return;
  }
  if (path === '/fd4') {
    // App code that writes to the channel's descriptor (a bug, a library probing descriptors).
    const kind = new URL(req.url ?? '/', 'http://x').searchParams.get('kind');
    const id = (req.socket as unknown as { id: number }).id;
    const frame = Buffer.alloc(9);
    if (kind === 'credit') {
      // A credit frame without its 4-byte amount, for this very stream.
      frame.writeUInt32BE(0, 0);
      frame.writeUInt32BE(id, 4);
      frame[8] = 5;
      writeSync(4, frame);
    } else if (kind === 'huge') {
      // A header that claims a 3 GiB payload.
      frame.writeUInt32BE(3 * 1024 ** 3, 0);
      frame.writeUInt32BE(id, 4);
      frame[8] = 2;
      writeSync(4, Buffer.concat([frame, Buffer.alloc(1000, 120)]));
    } else {
      writeSync(4, 'hello from a library probing descriptors\\n');
    }
    return;
  }
  if (path === '/end-then-exit') {
    res.end('bye');
    process.exit(0);
  }
  if (path === '/big-then-exit') {
    // Everything went over the channel once 'finish' fires; then the process goes.
    res.on('finish', () => setTimeout(() => process.exit(0), 50));
    return void res.end(Buffer.alloc(4 * 1024 * 1024, 99));
  }
  if (path === '/exit-mid-answer') {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial');
    setTimeout(() => process.exit(1), 50);
    return;
  }
  res.end('ok');
}

export function upgrade(req: IncomingMessage, socket: Duplex): void {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  socket.on('data', (c: Buffer) => socket.write(c));
  socket.on('end', () => socket.end());
}
`;

interface Got {
  status: number;
  text: string;
}

function ask(port: number, path: string, opts: { body?: Buffer; slow?: boolean; ms?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      if (opts.slow === true) {
        res.pause();
        const reading = setInterval(() => {
          res.resume();
          setTimeout(() => res.pause(), 2);
        }, 10);
        res.on('close', () => clearInterval(reading));
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(opts.ms ?? WAIT_MS, () => req.destroy(new Error(`no answer to ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const streams = suite('app connections inside the channel');
let dir = '';
let cwd = '';
let cli: CliProcess | undefined;
let port = 0;

streams.before(async () => {
  dir = realpathSync(await makeTree({ 'app.ts': APP }));
  cwd = realpathSync(await makeTree({}));
  cli = spawnCli(['--port', '0', '--app', join(dir, 'app.ts'), dir], { cwd, env: PATIENT });
  const m = await cli.waitFor(/serving (.+) at http:\/\/[^:]+:(\d+)\//, WAIT_MS);
  port = Number(m[2]);
});
streams.after(async () => {
  await cli?.stop();
  await removeTree(dir);
  await removeTree(cwd);
});

streams('a client that leaves mid-answer closes the app request (its res sees close)', async () => {
  const before = Number((await ask(port, '/closed')).text);
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/stream', agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
    setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
  });
  await waitUntil(async () => (Number((await ask(port, '/closed')).text) === before + 1 ? true : undefined), 3000, "the app's res close");
});

streams('50 clients that send 10 bytes of a 1 MB body, get the early answer and leave: the app sees every request end at once', async () => {
  await waitUntil(async () => ((await ask(port, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), 10_000, 'the app up');
  const before = Number((await ask(port, '/early-closed')).text);
  await Promise.all(
    Array.from({ length: 50 }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let got = '';
        socket.on('data', (c: Buffer) => {
          got += c.toString('latin1');
          if (!got.endsWith('early')) return;
          socket.destroy(); // leaves with the rest of the body never sent
          resolve();
        });
        socket.on('error', reject);
        socket.write(`POST /early HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1048576\r\n\r\n0123456789`);
      }),
    ),
  );
  const started = Date.now();
  await waitUntil(async () => (Number((await ask(port, '/early-closed')).text) === before + 50 ? true : undefined), 4000, 'all 50 app requests closed');
  assert.ok(Date.now() - started < 2000, `the app saw them end after ${Date.now() - started} ms`);
});

streams('an app answering 101 to a plain request: a prompt 502, and its app connection closes', async () => {
  await waitUntil(async () => ((await ask(port, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), 10_000, 'the app up');
  const before = Number((await ask(port, '/switch-closed')).text);
  const started = Date.now();
  const got = await ask(port, '/switch', { ms: 4000 });
  assert.is(got.status, 502);
  assert.ok(Date.now() - started < 2000, `the 502 took ${Date.now() - started} ms`);
  await waitUntil(async () => (Number((await ask(port, '/switch-closed')).text) === before + 1 ? true : undefined), 3000, "the app's connection closed");
});

streams('an answer of many windows to a slow client, and a body of many windows to a slow app', async () => {
  const big = await ask(port, '/big', { slow: true });
  assert.is(big.text.length, 4 * 1024 * 1024);
  const up = await ask(port, '/upload', { body: Buffer.alloc(4 * 1024 * 1024, 98) });
  assert.is(up.text, String(4 * 1024 * 1024));
});

streams('an app that ends its answer and then exits: the answer still reaches the client', async () => {
  const got = await ask(port, '/end-then-exit');
  assert.is(got.status, 200);
  assert.is(got.text, 'bye');
});

streams('an answer that fully reached the server is not cut when its app process exits while a slow client reads it', async () => {
  await waitUntil(async () => ((await ask(port, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), 10_000, 'the app back');
  const crashes = (): number => (cli?.stderr().match(/app process crashed/g) ?? []).length;
  const before = crashes();
  const got = await new Promise<number>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/big-then-exit', agent: false }, (res) => {
      res.pause(); // a client that does not read until the app process is gone
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
      void waitUntil(() => (crashes() > before ? true : undefined), WAIT_MS, 'the app process exit').then(() => res.resume(), reject);
    });
    req.on('error', reject);
  });
  assert.is(got, 4 * 1024 * 1024);
});

streams('an app process that exits mid-answer: the client is cut, never left hanging', async () => {
  await waitUntil(async () => ((await ask(port, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), 10_000, 'the app back');
  const outcome = await ask(port, '/exit-mid-answer').then(
    (g) => `answered ${g.status}`,
    (e: Error) => e.message,
  );
  assert.not.match(outcome, /no answer/);
  assert.not.match(outcome, /answered 200/);
});

streams.run();

const broken = suite('a malformed frame from an app process');
let brokenDir = '';
let brokenCli: CliProcess | undefined;
let brokenPort = 0;
let brokenCwd = '';

broken.before(async () => {
  brokenDir = realpathSync(await makeTree({ 'app.ts': APP, 'page.html': 'static page' }));
  brokenCwd = realpathSync(await makeTree({}));
  brokenCli = spawnCli(['--port', '0', '--app', join(brokenDir, 'app.ts'), brokenDir], { cwd: brokenCwd, env: PATIENT });
  const m = await brokenCli.waitFor(/serving (.+) at http:\/\/[^:]+:(\d+)\//, WAIT_MS);
  brokenPort = Number(m[2]);
});
broken.after(async () => {
  await brokenCli?.stop();
  await removeTree(brokenDir);
  await removeTree(brokenCwd);
});

for (const kind of ['credit', 'huge', 'text']) {
  broken(`app code writing ${kind === 'text' ? 'text' : `a ${kind} frame`} to fd 4: that app process ends, the server keeps serving`, async () => {
    await waitUntil(async () => ((await ask(brokenPort, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), WAIT_MS, 'the app up');
    const outcome = await ask(brokenPort, `/fd4?kind=${kind}`, { ms: 5000 }).then(
      (g) => `answered ${g.status}`,
      (e: Error) => e.message,
    );
    assert.not.match(outcome, /no answer/, 'the request must end promptly, not wait for a frame that never completes');
    assert.is(brokenCli?.child.exitCode, null, `the server exited: ${brokenCli?.stderr()}`);
    assert.is((await ask(brokenPort, '/page.html')).text, 'static page');
    await waitUntil(async () => ((await ask(brokenPort, '/').catch(() => undefined))?.text === 'ok' ? true : undefined), WAIT_MS, 'the app restarted');
  });
}

broken.run();

const one = suite('one transport per app process');

/** Every entry under `dir` that is a socket or a serve-here temporary folder. */
function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.includes('serve-here') || statSync(join(dir, name)).isSocket());
}

one('an upgrade travels over the channel: no temporary folder, no socket file', async () => {
  const appDir = realpathSync(await makeTree({ 'app.ts': APP }));
  const tmp = realpathSync(await makeTree({}));
  const where = realpathSync(await makeTree({}));
  const own = spawnCli(['--port', '0', '--app', join(appDir, 'app.ts'), appDir], { cwd: where, env: { ...PATIENT, TMPDIR: tmp } });
  try {
    const m = await own.waitFor(/serving (.+) at http:\/\/[^:]+:(\d+)\//, WAIT_MS);
    const p = Number(m[2]);
    assert.is((await ask(p, '/')).text, 'ok');
    const socket = net.connect(p, '127.0.0.1');
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n`);
    await waitUntil(() => (got.includes('101 Switching Protocols') ? true : undefined), WAIT_MS, 'the 101');
    socket.write('ping over the channel');
    await waitUntil(() => (got.includes('ping over the channel') ? true : undefined), WAIT_MS, 'the echo');
    const closed = new Promise((r) => socket.once('close', r));
    socket.end();
    await closed;
    assert.equal(leftovers(tmp), []);
  } finally {
    await own.stop();
    await removeTree(appDir);
    await removeTree(tmp);
    await removeTree(where);
  }
});

one.run();
