// Every cache of the static side is reached, and none can serve a stale page or reveal a hidden
// file: each is shown to notice a content change, a permission change (ctime), a new inode (a
// file or folder renamed over) and a file turning into a folder. Bounded ones evict LRU-first.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BodyCache } from '../src/static/body-cache.js';
import { ListingCache } from '../src/static/listing.js';
import { LruMap } from '../src/static/lru.js';
import { Resolver, SharedStat } from '../src/static/resolve.js';
import { makeTree, removeTree, request, startServer } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';
import { Exposure } from '../src/exposure/policy.js';

/** Files younger than 2 s are never cached (coarse timestamps): age them so the caches are reached. */
async function age(path: string, secondsAgo = 100): Promise<void> {
  const t = Date.now() / 1000 - secondsAgo;
  await utimes(path, t, t);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let base = '';

// --- LRU ---------------------------------------------------------------------------------------

const lru = suite('LruMap');

lru('LruMap evicts the least recently used entry, one at a time', () => {
  const m = new LruMap<string, number>(3);
  m.set('a', 1);
  m.set('b', 2);
  m.set('c', 3);
  assert.is(m.get('a'), 1); // a is now the most recent; b is the oldest
  m.set('d', 4);
  assert.is(m.size, 3);
  assert.is(m.has('b'), false);
  assert.equal([...m.keys()], ['c', 'a', 'd']);
  m.set('c', 30); // an update counts as a use
  m.set('e', 5);
  assert.equal([...m.keys()], ['d', 'c', 'e']);
});

lru('an entry read between inserts is never evicted, though a read moves it only from the older half', () => {
  const m = new LruMap<string, number>(8);
  for (const k of 'abcdefgh') m.set(k, 0);
  m.get('h'); // youngest already: stays where it is
  m.get('g');
  assert.equal([...m.keys()].join(''), 'abcdefgh');
  m.get('a'); // oldest: moved
  assert.equal([...m.keys()].join(''), 'bcdefgha');
  for (let i = 0; i < 100; i++) {
    m.set(`k${i}`, i);
    assert.is(m.get('h'), 0, `evicted after insert ${i}`);
  }
  assert.is(m.size, 8);
});

lru.run();

// --- body cache --------------------------------------------------------------------------------

const bodies = suite('BodyCache');
bodies.before(async () => {
  base = realpathSync(await makeTree({ 'a.txt': 'AAAA', 'b.txt': 'BBBB', 'c.txt': 'CCCC', 'd.txt': 'DDDD', 'sub/': '' }));
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) await age(join(base, f));
});
bodies.after(() => removeTree(base));

bodies('BodyCache serves a body from memory while the file is unchanged (the cache is reached)', async () => {
  const cache = new BodyCache();
  const path = join(base, 'a.txt');
  const first = await cache.get(path, await stat(path));
  const second = await cache.get(path, await stat(path));
  assert.is(second, first, 'the same cached entry');
  assert.is(cache.bytes, 4);
});

bodies('BodyCache rereads a same-size rewrite whose mtime was put back (ctime moved)', async () => {
  const cache = new BodyCache();
  const path = join(base, 'a.txt');
  const before = await stat(path);
  assert.is((await cache.get(path, before)).body.toString(), 'AAAA');
  await writeFile(path, 'aaaa');
  await utimes(path, before.atime, before.mtime); // size and mtime as before: only ctime tells
  const after = await stat(path);
  assert.is(after.mtimeMs, before.mtimeMs);
  assert.is((await cache.get(path, after)).body.toString(), 'aaaa');
});

bodies('BodyCache reopens the file after a permission change (ctime moved)', async () => {
  const cache = new BodyCache();
  const path = join(base, 'b.txt');
  const first = await cache.get(path, await stat(path));
  await chmod(path, 0o600);
  const second = await cache.get(path, await stat(path));
  assert.is.not(second, first, 'a new read, not the cached entry');
  assert.is(second.body.toString(), 'BBBB');
});

bodies('BodyCache rereads a file renamed over the cached one (new inode, same size and mtime)', async () => {
  const cache = new BodyCache();
  const path = join(base, 'c.txt');
  const before = await stat(path);
  assert.is((await cache.get(path, before)).body.toString(), 'CCCC');
  await writeFile(join(base, 'c.tmp'), 'cccc');
  await utimes(join(base, 'c.tmp'), before.atime, before.mtime);
  await rename(join(base, 'c.tmp'), path);
  const after = await stat(path);
  assert.is.not(after.ino, before.ino);
  assert.is((await cache.get(path, after)).body.toString(), 'cccc');
});

bodies('BodyCache refuses a path that turned into a folder', async () => {
  const cache = new BodyCache();
  const path = join(base, 'd.txt');
  const st = await stat(path);
  await cache.get(path, st);
  await rm(path);
  await mkdir(path);
  let code: unknown;
  try {
    await cache.get(path, await stat(path));
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code;
  }
  assert.is(code, 'ENOENT');
});

bodies('BodyCache evicts the least recently used body when over its budget', async () => {
  await writeFile(join(base, 'x1.txt'), '1111');
  await writeFile(join(base, 'x2.txt'), '2222');
  await writeFile(join(base, 'x3.txt'), '3333');
  for (const f of ['x1.txt', 'x2.txt', 'x3.txt']) await age(join(base, f));
  const cache = new BodyCache(8); // two 4-byte bodies
  const p = (f: string): string => join(base, f);
  const one = await cache.get(p('x1.txt'), await stat(p('x1.txt')));
  const two = await cache.get(p('x2.txt'), await stat(p('x2.txt')));
  assert.is(await cache.get(p('x1.txt'), await stat(p('x1.txt'))), one); // x1 used last
  await cache.get(p('x3.txt'), await stat(p('x3.txt'))); // over budget: x2 goes, not everything
  assert.is(cache.bytes, 8);
  assert.is(await cache.get(p('x1.txt'), await stat(p('x1.txt'))), one, 'x1 kept');
  assert.is.not(await cache.get(p('x2.txt'), await stat(p('x2.txt'))), two, 'x2 was evicted');
});

bodies.run();

// --- body cache over a socket --------------------------------------------------------------------

const served = suite('body cache over a socket');

served('a page edited in place with its mtime put back is never served stale', async () => {
  const dir = realpathSync(await makeTree({ 'page.html': '<p>one</p>' }));
  const srv = await startServer({ root: dir });
  try {
    const path = join(dir, 'page.html');
    await age(path);
    const st = await stat(path);
    assert.is((await request(srv.port, '/page.html')).text, '<p>one</p>');
    const cached = await request(srv.port, '/page.html'); // now from memory
    assert.is(cached.text, '<p>one</p>');
    await writeFile(path, '<p>two</p>');
    await utimes(path, st.atime, st.mtime);
    assert.is((await request(srv.port, '/page.html')).text, '<p>two</p>');
    // and a browser revalidating its old copy is not told it is current
    const revalidated = await request(srv.port, '/page.html', { headers: { 'if-none-match': String(cached.headers.etag) } });
    assert.is(revalidated.status, 200);
    assert.is(revalidated.text, '<p>two</p>');
  } finally {
    await srv.close();
    await removeTree(dir);
  }
});

served.run();

// --- resolver: path cache, shared stat, folder names ---------------------------------------------

const resolver = suite('Resolver caches');
let root = '';
resolver.before(async () => {
  base = realpathSync(await makeTree({ 'root/f.txt': 'file', 'root/g.txt': 'gee', 'root/h.txt': 'aitch', 'root/names/a.txt': 'a', 'root/.env': 'SECRET=1', 'secret.txt': 'TOP' }));
  root = join(base, 'root');
});
resolver.after(() => removeTree(base));

resolver('SharedStat shares a stat within one turn and takes a fresh one on the next', async () => {
  const shared = new SharedStat();
  const path = join(root, 'f.txt');
  const [a, b] = await Promise.all([shared.get(path), shared.get(path)]);
  assert.is(a, b, 'one stat for both');
  await writeFile(path, 'file, longer now');
  await nextTurn();
  assert.is((await shared.get(path))?.size, 'file, longer now'.length);
  await chmod(path, 0o640);
  await nextTurn();
  assert.is(((await shared.get(path))?.mode ?? 0) & 0o777, 0o640);
});

resolver('Resolver path cache follows content, permission, inode and type changes', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  const path = join(root, 'g.txt');
  const first = await r.resolve(['g.txt']);
  assert.is(first.kind, 'file');
  assert.is(r.cacheSizes.paths, 1, 'the path cache is reached');
  await writeFile(path, 'gee whiz');
  await nextTurn();
  const grown = await r.resolve(['g.txt']);
  assert.is(grown.kind === 'file' ? grown.stat.size : -1, 'gee whiz'.length);
  await chmod(path, 0o600);
  await nextTurn();
  const chmodded = await r.resolve(['g.txt']);
  assert.is(chmodded.kind === 'file' ? chmodded.stat.mode & 0o777 : -1, 0o600);
  await writeFile(join(root, 'g.tmp'), 'replaced');
  await rename(join(root, 'g.tmp'), path);
  await nextTurn();
  const renamed = await r.resolve(['g.txt']);
  assert.is(renamed.kind === 'file' ? renamed.stat.size : -1, 'replaced'.length);
  await rm(path);
  await mkdir(path);
  await nextTurn();
  assert.is((await r.resolve(['g.txt'])).kind, 'dir');
});

resolver('Resolver path cache never reveals a dotfile or an outside file swapped in', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['h.txt'])).kind, 'file');
  await rm(join(root, 'h.txt'));
  await symlink('.env', join(root, 'h.txt'));
  await nextTurn();
  assert.is((await r.resolve(['h.txt'])).kind, 'missing');
  await rm(join(root, 'h.txt'));
  await symlink('../secret.txt', join(root, 'h.txt'));
  await nextTurn();
  assert.is((await r.resolve(['h.txt'])).kind, 'missing');
});

resolver('Resolver folder-name cache sees new names, a folder renamed over, and a file turned folder', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  const names = join(root, 'names');
  await age(names);
  assert.is((await r.resolve(['names', 'b.txt'])).kind, 'missing');
  assert.is(r.cacheSizes.folders, 1, 'the folder-name cache is reached');
  await writeFile(join(names, 'b.txt'), 'new');
  await age(names); // the folder's mtime put back: its ctime still moved
  await nextTurn();
  assert.is((await r.resolve(['names', 'b.txt'])).kind, 'file');
  // another folder, holding c.txt, renamed over it with the same mtime
  const before = await stat(names);
  await mkdir(join(root, 'names2'));
  await writeFile(join(root, 'names2', 'c.txt'), 'c');
  await utimes(join(root, 'names2'), before.atime, before.mtime);
  await rm(names, { recursive: true });
  await rename(join(root, 'names2'), names);
  await nextTurn();
  assert.is((await r.resolve(['names', 'c.txt'])).kind, 'file');
  // a file that becomes a folder keeps its name: it is found as a folder
  await rm(join(names, 'c.txt'));
  await mkdir(join(names, 'c.txt'));
  await age(names);
  await nextTurn();
  assert.is((await r.resolve(['names', 'c.txt'])).kind, 'dir');
});

resolver.run();

// --- listing cache ------------------------------------------------------------------------------

const listing = suite('ListingCache');
let dir = '';
listing.before(async () => {
  base = realpathSync(await makeTree({ 'list/a.txt': 'a', 'list/b.txt': 'bb', 'list/.env': 'SECRET=1' }));
  dir = join(base, 'list');
  for (const f of ['a.txt', 'b.txt']) await age(join(dir, f));
  await age(dir);
});
listing.after(() => removeTree(base));

interface JsonListing {
  entries: { name: string; type: string; size: number }[];
}
async function list(cache: ListingCache): Promise<JsonListing> {
  return JSON.parse(await cache.render(dir, await stat(dir), ['list'], '', true)) as JsonListing;
}
const sizeOf = (l: JsonListing, name: string): number | undefined => l.entries.find((e) => e.name === name)?.size;

listing('ListingCache is reached, then refreshes on folder ctime and within a second on content', async () => {
  const cache = new ListingCache(new Exposure({ root: base, dotfiles: false }));
  assert.is(sizeOf(await list(cache), 'a.txt'), 1);
  await writeFile(join(dir, 'a.txt'), 'aaa'); // the folder's mtime does not move
  assert.is(sizeOf(await list(cache), 'a.txt'), 1, 'served from the cache');
  await chmod(dir, 0o755); // a permission change moves the folder's ctime: reread now
  assert.is(sizeOf(await list(cache), 'a.txt'), 3);
  await writeFile(join(dir, 'a.txt'), 'aaaaa');
  await waitUntil(async () => (sizeOf(await list(cache), 'a.txt') === 5 ? true : undefined), 3000, 'the new size within the max age');
});

listing('ListingCache never lists a new dotfile or a link to one', async () => {
  const cache = new ListingCache(new Exposure({ root: base, dotfiles: false }));
  await list(cache);
  await writeFile(join(dir, '.secret'), 'x');
  await symlink('.env', join(dir, 'innocent.txt'));
  const names = (await list(cache)).entries.map((e) => e.name);
  assert.not.ok(names.includes('.secret'));
  assert.not.ok(names.includes('innocent.txt'));
  assert.not.ok(names.includes('.env'));
  await rm(join(dir, 'innocent.txt'));
});

listing('ListingCache sees a file turned folder and a folder renamed over with the same mtime', async () => {
  const cache = new ListingCache(new Exposure({ root: base, dotfiles: false }));
  assert.is((await list(cache)).entries.find((e) => e.name === 'b.txt')?.type, 'file');
  await rm(join(dir, 'b.txt'));
  await mkdir(join(dir, 'b.txt'));
  assert.is((await list(cache)).entries.find((e) => e.name === 'b.txt')?.type, 'directory');
  const before = await stat(dir);
  await mkdir(join(base, 'other'));
  await writeFile(join(base, 'other', 'z.txt'), 'z');
  await utimes(join(base, 'other'), before.atime, before.mtime);
  await rm(dir, { recursive: true });
  await rename(join(base, 'other'), dir);
  assert.equal((await list(cache)).entries.map((e) => e.name), ['z.txt']);
});

listing.run();
