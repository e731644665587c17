// --workers through the real CLI, as a service runs it: one key and one live-reload run for all
// workers, a dead worker restarted (and said), a crash loop given up with a non-zero exit, and
// Ctrl-C to the process group finishing every in-flight response, ten runs out of ten.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, removeTree, BIN } from './helpers/server.js';
import { get } from './helpers/dev.js';
import { waitUntil } from './helpers/http.js';

const WAIT_MS = 20_000;
const BANNER = /serving (.+) at http:\/\/[^/]+:(\d+)\//;

const APP = `import { existsSync } from 'node:fs';
if (existsSync('broken')) process.exit(3);
const enc = new TextEncoder();
export default (req: Request) => {
  const path = new URL(req.url).pathname;
  if (path === '/die') process.exit(3);
  if (path === '/slow') {
    return new Response(new ReadableStream({
      start(c) {
        c.enqueue(enc.encode('a'));
        setTimeout(() => { c.enqueue(enc.encode('b')); c.close(); }, 600);
      },
    }));
  }
  return new Response(String(process.pid));
};
`;

interface Group {
  dir: string;
  pid: number;
  port: number;
  out: () => string;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** The CLI in its own process group, like a shell job (a signal to -pid is what Ctrl-C sends). */
async function startGroup(args: string[]): Promise<Group> {
  const dir = await makeTree({ 'app.ts': APP, 'index.html': '<p>hi</p>' });
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, BIN, '--port', '0', '--app', '/=app.ts', '--no-watch', ...args, dir], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const pid = child.pid as number;
  const kill = async (): Promise<void> => {
    if (child.exitCode === null) process.kill(-pid, 'SIGKILL');
    await exited;
    await removeTree(dir);
  };
  const port = await waitUntil(() => (BANNER.test(out) ? Number(BANNER.exec(out)?.[2]) : child.exitCode !== null ? -1 : undefined), WAIT_MS, 'the banner').catch(async (e: unknown) => {
    await kill();
    throw e;
  });
  if (port <= 0) {
    await kill();
    throw new Error(`no banner: ${out}`);
  }
  return { dir, pid, port, out: () => out, exited, kill };
}

/** The `hello` event's server id from one new live-reload stream. */
function liveId(port: number, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/.well-known/serve-here/events', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        const m = /event: hello\ndata: (\{.*\})\n/.exec(text);
        if (m?.[1] === undefined) return;
        req.destroy();
        resolve((JSON.parse(m[1]) as { id: string }).id);
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('no hello')));
    req.on('error', reject);
  });
}

/** Answered bodies of `n` requests, one connection each (round robin spreads them over the workers). */
async function many(port: number, n: number, path: string, headers: Record<string, string> = {}): Promise<Array<{ status: number; text: string }>> {
  const got = [];
  for (let i = 0; i < n; i++) got.push(await get(port, path, headers));
  return got;
}

const heal = suite('--workers heal');

heal('--share: the printed key opens every worker, and so does the cookie it is traded for', async () => {
  const g = await startGroup(['--share', '--workers', '3']);
  try {
    const key = /serve-here-key=([A-Za-z0-9_-]+)/.exec(g.out())?.[1];
    assert.ok(key, g.out());
    // The banner comes with the first worker listening; the others may still be booting, and the
    // primary hands connections only to listening ones: asked again until two answer (a refusal
    // ends the wait at once, so it cannot hide behind it).
    const bearer = await waitUntil(async () => {
      const got = await many(g.port, 9, '/pid', { Authorization: `Bearer ${key}` });
      return got.some((r) => r.status !== 200) || new Set(got.map((r) => r.text)).size > 1 ? got : undefined;
    }, 20_000, 'requests reaching more than one worker');
    assert.equal(bearer.map((r) => r.status), Array(9).fill(200), g.out());
    const nav = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: g.port, path: `/?serve-here-key=${key}`, headers: { Accept: 'text/html' }, agent: false }, (res) => (res.resume(), resolve(res))).on('error', reject);
    });
    assert.is(nav.statusCode, 303);
    const cookie = String(nav.headers['set-cookie']?.[0]).split(';')[0] as string;
    const withCookie = await many(g.port, 9, '/index.html', { Cookie: cookie });
    assert.equal(withCookie.map((r) => r.status), Array(9).fill(200));
  } finally {
    await g.kill();
  }
});

heal('--live: a stream that reconnects to any worker sees the same run (no reload)', async () => {
  const g = await startGroup(['--live', '--workers', '3']);
  try {
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await liveId(g.port));
    assert.is(new Set(ids).size, 1, ids.join(' '));
  } finally {
    await g.kill();
  }
});

heal('a worker that dies is restarted and said in one line; the others keep answering', async () => {
  const g = await startGroup(['--workers', '2']);
  try {
    // Both workers listening first: killing the only one up (the banner comes with the first)
    // would leave no one to answer while the other still boots.
    const up = await waitUntil(async () => {
      const seen = new Set((await many(g.port, 4, '/pid')).map((r) => Number(r.text)));
      return seen.size === 2 ? [...seen] : undefined;
    }, WAIT_MS, 'both workers listening');
    const victim = up[0] as number;
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => (new RegExp(`worker ${victim} was killed by SIGKILL — restarting it in 0\\.1 s\\n`).test(g.out()) ? true : undefined), WAIT_MS, 'the restart line');
    // Back to two workers, neither of them the dead one.
    const pids = await waitUntil(async () => {
      const seen = new Set((await many(g.port, 4, '/pid')).map((r) => Number(r.text)));
      return seen.size === 2 && !seen.has(victim) ? seen : undefined;
    }, WAIT_MS, 'two live workers again');
    assert.is(pids.size, 2);
    assert.is(g.out().match(/✖ worker/g)?.length, 1, g.out());
  } finally {
    await g.kill();
  }
});

heal('a worker that keeps dying is given up: the rest stop and the primary exits non-zero', async () => {
  const g = await startGroup(['--workers', '2']);
  try {
    writeFileSync(join(g.dir, 'broken'), '');
    await get(g.port, '/die').catch(() => undefined);
    // Five boots of a worker: seconds each on a busy machine.
    const timer = setTimeout(() => process.kill(-g.pid, 'SIGKILL'), 3 * WAIT_MS);
    const code = await g.exited;
    clearTimeout(timer);
    assert.is(code, 3, g.out());
    assert.match(g.out(), /exited with code 3 — restarting it in 0\.1 s/);
    assert.match(g.out(), /died 5 times in a row, giving up; stopping/);
  } finally {
    await g.kill();
  }
});

/** Four responses in flight (headers and a first byte out), then SIGINT to the whole group. */
async function ctrlCWhileStreaming(): Promise<void> {
  const g = await startGroup(['--workers', '2']);
  try {
    const bodies = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<{ first: Promise<void>; body: Promise<string> }>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: g.port, path: '/slow', agent: false }, (res) => {
            let text = '';
            let firstByte!: () => void;
            const first = new Promise<void>((r) => (firstByte = r));
            const body = new Promise<string>((ok, bad) => {
              res.on('data', (c: Buffer) => {
                text += c.toString();
                firstByte();
              });
              res.on('end', () => ok(text));
              res.on('error', bad);
              res.on('aborted', () => bad(new Error(`cut after ${JSON.stringify(text)}`)));
            });
            body.catch(() => {});
            resolve({ first, body });
          }).on('error', reject);
        }),
      ),
    );
    await Promise.all(bodies.map((b) => b.first));
    process.kill(-g.pid, 'SIGINT');
    const texts = await Promise.all(bodies.map((b) => b.body.catch((e: unknown) => String(e))));
    assert.equal(texts, Array(4).fill('ab'), g.out());
    assert.is(await g.exited, 0, g.out());
  } finally {
    await g.kill();
  }
}

heal('Ctrl-C to the process group lets every worker finish its in-flight responses, 10 runs of 10', async () => {
  for (let run = 0; run < 10; run++) await ctrlCWhileStreaming();
});

heal.run();
