// A plain start loads only what serving a folder needs: live reload, sharing, uploads, zips,
// listings and mime's full table come in with the flag or the first request that needs them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTree, removeTree } from './helpers/server.js';
import { scriptResult, startCli } from './helpers/script.js';

/** Every module URL resolved while the CLI starts with `args` and answers GET `path`. */
function modulesLoaded(args: string[], path = '/'): Promise<string[]> {
  // A resolve hook (in the loader thread) reports each URL; the script starts the CLI, reads the
  // port from the banner, sends one request, then imports a sentinel: once the sentinel has been
  // reported, every load before it has been too.
  const hooks = `let port; export function initialize(d) { port = d.port; }
    export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
  const script = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    import http from 'node:http';
    const { port1, port2 } = new MessageChannel();
    const seen = [];
    port1.on('message', (url) => seen.push(url));
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { data: { port: port2 }, transferList: [port2] });
    ${startCli(args)}
    await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port, path: ${JSON.stringify(path)} }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
    const sentinel = 'data:text/javascript,export%20default%201%3B%2F%2Fsentinel';
    await import(sentinel);
    while (!seen.includes(sentinel)) await new Promise((r) => setImmediate(r));
    write('MODULES ' + JSON.stringify(seen) + '\\n');
    process.exit(0);
  `;
  return scriptResult(script, 'MODULES', { ...process.env, NO_COLOR: '1' }).then((list) => JSON.parse(list) as string[]);
}

const LAZY = ['/node_modules/chokidar/', '/node_modules/mime/', '/node_modules/uqr/', '/node_modules/client-zip/', 'node:https', 'node:child_process', '/src/live/hub.js', '/src/live/client.js', '/src/live/folder-watch.js', '/src/share/access.js', '/src/share/setup.js', '/src/share/upload.js', '/src/share/zip.js', '/src/static/listing.js'];

let dir = '';
const lazy = suite('modules loaded at start');
lazy.before(async () => {
  dir = await makeTree({ 'index.html': '<p>hi</p>', 'sub/a.txt': 'a' });
});
lazy.after(() => removeTree(dir));

lazy('serving a folder and its index.html loads none of the optional parts', async () => {
  const loaded = await modulesLoaded([dir, '--port', '0']);
  assert.ok(loaded.some((u) => u.endsWith('/src/server.js')), 'the hook saw the server load');
  for (const part of LAZY) assert.not.ok(loaded.some((u) => u.includes(part)), `${part} was loaded`);
});

lazy('each flag or first request brings in its part', async () => {
  const live = await modulesLoaded([dir, '--port', '0', '--live']);
  assert.ok(live.some((u) => u.includes('/node_modules/chokidar/')), 'chokidar with --live');
  const listing = await modulesLoaded([dir, '--port', '0'], '/sub/');
  assert.ok(listing.some((u) => u.includes('/src/static/listing.js')), 'listing code on the first listing');
  const text = await modulesLoaded([dir, '--port', '0'], '/sub/a.txt');
  assert.not.ok(text.some((u) => u.includes('/node_modules/mime/')), '.txt is a common type');
});

lazy.run();
