// Reliability of app hosting through the CLI on real sockets: Ctrl-C to the process group,
// SIGHUP, crash loops, a served folder deleted and made again, imports that never finish,
// requests cut by the drain timeout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { BIN, makeTree, removeTree, spawnCli, type CliProcess } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';

const WAIT_MS = 15_000;
const BANNER = /serving (.+) at http:\/\/127\.0\.0\.1:(\d+)\//;

interface Got {
  status: number;
  text: string;
}

function get(port: number, path: string, ms = WAIT_MS): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(ms, () => req.destroy(new Error(`no answer to ${path} within ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function poll(port: number, path: string, accept: (r: Got) => boolean, what: string): Promise<Got> {
  let last = 'none';
  try {
    return await waitUntil(async () => {
      const r = await get(port, path, 5000).catch((e: unknown) => ({ status: 0, text: String(e) }));
      last = `${r.status} ${r.text.slice(0, 120)}`;
      return accept(r) ? r : undefined;
    }, WAIT_MS, what);
  } catch (error) {
    throw new Error(`${String(error)} (last: ${last})`);
  }
}

const output = (cli: CliProcess): string => cli.stdout() + cli.stderr();

async function serve(dir: string, env: Record<string, string> = {}): Promise<{ cli: CliProcess; port: number }> {
  const cli = spawnCli(['--port', '0', '--app', 'app.ts', dir], { cwd: dir, env });
  try {
    const m = await cli.waitFor(BANNER, WAIT_MS);
    return { cli, port: Number(m[2]) };
  } catch (error) {
    await cli.stop('SIGKILL');
    throw error;
  }
}

const SLOW_APP = `export default {
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/slow') {
      console.log('slow-started');
      await new Promise((r) => setTimeout(r, 1500));
      return new Response('slow done');
    }
    if (path === '/pid') return new Response(String(process.pid));
    return new Response('v1');
  },
};
`;

// ---- signals ---------------------------------------------------------------------------------------

const signals = suite('serve-here --app: signals');

signals('Ctrl-C to the whole process group: the in-flight app request completes, nothing restarts, no app process is left', async () => {
  const dir = realpathSync(await makeTree({ 'app.ts': SLOW_APP }));
  // detached: the CLI leads its own process group, as a shell's foreground job does.
  const child = spawn(process.execPath, [BIN, '--port', '0', '--app', 'app.ts', dir], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    const port = Number((await waitUntil(() => BANNER.exec(out) ?? undefined, WAIT_MS, 'the banner'))[2]);
    const appPid = Number((await get(port, '/pid')).text);
    const slow = get(port, '/slow');
    await waitUntil(() => (out.includes('slow-started') ? true : undefined), WAIT_MS, 'the slow request to start');
    process.kill(-(child.pid ?? 0), 'SIGINT');
    const res = await slow;
    assert.is(res.status, 200);
    assert.is(res.text, 'slow done');
    assert.is(await exited, 0);
    assert.not.match(out, /crashed|restarting/);
    await waitUntil(() => {
      try {
        process.kill(appPid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 5000, 'the app process to end');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await removeTree(dir);
  }
});

signals('SIGHUP stops cleanly and removes the private socket folder', async () => {
  const dir = realpathSync(await makeTree({ 'app.ts': SLOW_APP }));
  const tmp = realpathSync(await makeTree({}));
  const s = await serve(dir, { TMPDIR: tmp });
  try {
    assert.is((await get(s.port, '/')).text, 'v1');
    assert.ok((await readdir(tmp)).length > 0, 'the socket folder is in TMPDIR');
    assert.is(await s.cli.stop('SIGHUP'), 0);
    // (tsx keeps its own cache folder there)
    assert.equal((await readdir(tmp)).filter((f) => f.startsWith('serve-here-')), []);
  } finally {
    await s.cli.stop('SIGKILL');
    await removeTree(dir);
    await removeTree(tmp);
  }
});

signals.run();

// ---- crashes and broken loads ------------------------------------------------------------------------

const crashes = suite('serve-here --app: crash loops and stuck loads');

crashes('an app that keeps crashing keeps being restarted with backoff, and the 503 says when', async () => {
  const dir = realpathSync(await makeTree({ 'app.ts': `setTimeout(() => process.exit(1), 300);\nexport default { fetch: () => new Response('up') };\n` }));
  const s = await serve(dir);
  try {
    await waitUntil(() => ((output(s.cli).match(/✖ .*(crashed|could not start).* — restarting in [\d.]+ s/g) ?? []).length >= 5 ? true : undefined), 20_000, 'five restarts');
    assert.not.match(output(s.cli), /waiting for a change/);
    const down = await poll(s.port, '/', (r) => r.status === 503, 'a 503 while down');
    assert.match(down.text, /restarting in [\d.]+ s/);
  } finally {
    await s.cli.stop();
    await removeTree(dir);
  }
});

crashes('an import that never finishes is reported within seconds; requests get the truth, never the old code', async () => {
  // "type": "module": tsx compiles app.ts as ESM, where a top-level await is allowed.
  const dir = realpathSync(await makeTree({ 'app.ts': SLOW_APP, 'package.json': '{"type":"module"}' }));
  const s = await serve(dir, { SERVE_HERE_LOAD_STUCK_MS: '1000', SERVE_HERE_HOLD_TIMEOUT_MS: '2500' });
  try {
    await poll(s.port, '/', (r) => r.text === 'v1', 'the first app (a cold load may itself pass 1 s)');
    const m = s.cli.stderr().length;
    await writeFile(join(dir, 'app.ts'), `await new Promise(() => {});\nexport default { fetch: () => new Response('v2') };\n`);
    await waitUntil(() => (/app load is taking more than 1 s \(stuck/.test(s.cli.stderr().slice(m)) ? true : undefined), 5000, 'the stuck line');
    const res = await get(s.port, '/', 5000);
    assert.is(res.status, 503, res.text);
    assert.match(res.text, /stuck/);
    await writeFile(join(dir, 'app.ts'), `for (;;) {}\nexport default { fetch: () => new Response('v3') };\n`);
    const blocked = await poll(s.port, '/', (r) => r.status === 500, 'a 500 for a loop at import');
    assert.match(blocked.text, /blocked/);
    await writeFile(join(dir, 'app.ts'), `export default { fetch: () => new Response('v4') };\n`);
    await poll(s.port, '/', (r) => r.text === 'v4', 'the fixed app');
  } catch (error) {
    throw new Error(`${String(error)}\n${output(s.cli)}`);
  } finally {
    await s.cli.stop();
    await removeTree(dir);
  }
});

crashes('a served folder deleted and made again: the new app answers and later saves are picked up', async () => {
  const dir = realpathSync(await makeTree({ 'app.ts': SLOW_APP }));
  const s = await serve(dir);
  try {
    assert.is((await get(s.port, '/')).text, 'v1');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'app.ts'), `export default { fetch: () => new Response('v2') };\n`);
    await poll(s.port, '/', (r) => r.text === 'v2', 'the app from the new folder');
    await writeFile(join(dir, 'app.ts'), `export default { fetch: () => new Response('v3') };\n`);
    await poll(s.port, '/', (r) => r.text === 'v3', 'a later save');
  } catch (error) {
    throw new Error(`${String(error)}\n${output(s.cli)}`);
  } finally {
    await s.cli.stop();
    await removeTree(dir);
  }
});

crashes('a request cut by the drain timeout is logged as such, with no EPIPE warning', async () => {
  const dir = realpathSync(await makeTree({ 'app.ts': SLOW_APP.replace('1500', '6000') }));
  const s = await serve(dir, { SERVE_HERE_DRAIN_TIMEOUT_MS: '500' });
  try {
    const slow = get(s.port, '/slow');
    await s.cli.waitFor(/slow-started/, WAIT_MS);
    await writeFile(join(dir, 'app.ts'), SLOW_APP.replace("'v1'", "'v2'"));
    const res = await slow;
    assert.is(res.status, 502);
    await s.cli.waitFor(/GET \/slow was cut: the old app process was stopped after the 0\.5 s drain timeout/, 5000);
    assert.is((await get(s.port, '/')).text, 'v2');
    assert.not.match(output(s.cli), /EPIPE/);
  } finally {
    await s.cli.stop();
    await removeTree(dir);
  }
});

crashes.run();
