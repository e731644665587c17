// Tests for src/static/resolve.ts: parsing request paths and resolving them inside the root.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isInside, parsePath, Resolver, type ParsedPath } from '../src/static/resolve.js';
import { makeTree, removeTree } from './helpers/server.js';
import { Exposure } from '../src/exposure/policy.js';

function segmentsOf(parsed: ParsedPath): string[] {
  if (parsed.kind !== 'ok') throw new Error(`Expected ok, got bad: ${parsed.reason}`);
  return parsed.segments;
}

// --- parsePath -------------------------------------------------------------------------------

const parse = suite('parsePath');

parse('parsePath() splits a plain path into segments', () => {
  assert.equal(parsePath('/a/b.txt'), { kind: 'ok', segments: ['a', 'b.txt'], raw: ['a', 'b.txt'], trailingSlash: false });
  assert.equal(parsePath('/'), { kind: 'ok', segments: [], raw: [], trailingSlash: false });
  assert.equal(parsePath('/a/'), { kind: 'ok', segments: ['a'], raw: ['a'], trailingSlash: true });
});

parse('parsePath() drops the query and fragment', () => {
  assert.equal(segmentsOf(parsePath('/a.txt?x=1&y=/../')), ['a.txt']);
  assert.equal(segmentsOf(parsePath('/a.txt#..')), ['a.txt']);
});

parse('parsePath() rejects a target that does not start with /', () => {
  assert.is(parsePath('*').kind, 'bad');
  assert.is(parsePath('http://evil.example/x').kind, 'bad');
  assert.is(parsePath('').kind, 'bad');
});

parse('parsePath() rejects a NUL byte, raw or encoded', () => {
  assert.is(parsePath('/a%00b').kind, 'bad');
  assert.is(parsePath('/a\0b').kind, 'bad');
  assert.is(parsePath('/secret.txt%00.html').kind, 'bad');
});

parse('parsePath() rejects a backslash, raw or encoded', () => {
  assert.is(parsePath('/a\\b').kind, 'bad');
  assert.is(parsePath('/..\\secret.txt').kind, 'bad');
  assert.is(parsePath('/%5c..%5csecret.txt').kind, 'bad');
  assert.is(parsePath('/%5C').kind, 'bad');
});

parse('parsePath() rejects malformed percent-encoding', () => {
  for (const bad of ['/%', '/%2', '/%zz', '/a%g0', '/%E0%A4%A', '/%C0%AE%C0%AE/x']) {
    assert.is(parsePath(bad).kind, 'bad', bad);
  }
});

parse('parsePath() rejects .. segments', () => {
  for (const bad of ['/..', '/../secret.txt', '/a/../../secret.txt', '/a/..', '/a/../b']) {
    assert.is(parsePath(bad).kind, 'bad', bad);
  }
});

parse('parsePath() rejects encoded ../', () => {
  for (const bad of ['/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/.%2e/x', '/a/%2e%2e%2F%2e%2e%2Fsecret.txt']) {
    assert.is(parsePath(bad).kind, 'bad', bad);
  }
});

parse('parsePath() collapses empty and . segments, so //x names /x', () => {
  assert.equal(segmentsOf(parsePath('//x')), ['x']);
  assert.equal(segmentsOf(parsePath('//evil.example/sub')), ['evil.example', 'sub']);
  assert.equal(segmentsOf(parsePath('/./x/./y')), ['x', 'y']);
  assert.equal(segmentsOf(parsePath('/a//b')), ['a', 'b']);
});

parse('parsePath() accepts dots inside a name (foo..bar.txt, ...)', () => {
  assert.equal(segmentsOf(parsePath('/foo..bar.txt')), ['foo..bar.txt']);
  assert.equal(segmentsOf(parsePath('/...')), ['...']);
  assert.equal(segmentsOf(parsePath('/..a/b..')), ['..a', 'b..']);
});

parse('parsePath() keeps %2F inside its segment (a name with a slash) and decodes other escapes once', () => {
  // %2F is not a separator (issue 6): the segment names a file "a/b.txt", which cannot exist.
  assert.equal(parsePath('/a%2Fb.txt'), { kind: 'ok', segments: ['a/b.txt'], raw: ['a%2Fb.txt'], trailingSlash: false });
  assert.equal(parsePath('/x/%2F/y%2f'), { kind: 'ok', segments: ['x', '/', 'y/'], raw: ['x', '%2F', 'y%2f'], trailingSlash: false });
  assert.equal(segmentsOf(parsePath('/a%20b.txt')), ['a b.txt']);
  assert.equal(segmentsOf(parsePath('/%E6%97%A5%E6%9C%AC.txt')), ['日本.txt']);
  // decoded once: %252e stays a literal "%2e", which is a name, not a parent segment
  assert.equal(segmentsOf(parsePath('/%252e%252e/x')), ['%2e%2e', 'x']);
  assert.equal(segmentsOf(parsePath('/q%3F.txt?real=query')), ['q?.txt']);
  assert.equal(segmentsOf(parsePath('/h%23.txt')), ['h#.txt']);
});

parse.run();

// --- hidden names (the exposure policy, asked by the resolver) ------------------------------

const hidden = suite('hidden names');
const readable = (dotfiles: boolean, ...segments: string[]): boolean => new Exposure({ root: '/srv', dotfiles }).mayRead(['/srv', ...segments].join('/'));

hidden('dotfiles are hidden unless allowed', () => {
  assert.is(readable(false, '.env'), false);
  assert.is(readable(true, '.env'), true);
  assert.is(readable(false, 'a', '.ssh', 'id_rsa'), false);
  assert.is(readable(true, '.well-known', 'x'), true);
});

hidden('.git is hidden even with dotfiles allowed', () => {
  assert.is(readable(true, '.git', 'config'), false);
  assert.is(readable(true, 'sub', '.git', 'HEAD'), false);
  assert.is(readable(false, '.git'), false);
});

hidden('names with dots that do not start with one pass', () => {
  assert.is(readable(false, 'a.b', 'c..d', 'e.'), true);
  assert.is(readable(false), true);
});

hidden.run();

// --- isInside --------------------------------------------------------------------------------

const inside = suite('isInside');

inside('isInside() accepts the root and paths below it', () => {
  assert.is(isInside('/srv/a', '/srv/a'), true);
  assert.is(isInside('/srv/a', '/srv/a/x'), true);
  assert.is(isInside('/srv/a', '/srv/a/x/y.txt'), true);
});

inside('isInside() rejects a sibling sharing the prefix (/srv/a vs /srv/ab)', () => {
  assert.is(isInside('/srv/a', '/srv/ab'), false);
  assert.is(isInside('/srv/a', '/srv/ab/x'), false);
  assert.is(isInside('/srv/a', '/srv/a.bak/x'), false);
});

inside('isInside() rejects parents and unrelated paths', () => {
  assert.is(isInside('/srv/a', '/srv'), false);
  assert.is(isInside('/srv/a', '/'), false);
  assert.is(isInside('/srv/a', '/etc/passwd'), false);
});

inside('isInside() with / as the root accepts everything absolute', () => {
  assert.is(isInside('/', '/etc/passwd'), true);
});

inside.run();

// --- Resolver --------------------------------------------------------------------------------

const resolver = suite('Resolver');
let base = '';
let root = '';

resolver.before(async () => {
  base = realpathSync(
    await makeTree({
      'root/index.html': '<h1>home</h1>',
      'root/sub/file.txt': 'inside',
      'root/.env': 'SECRET=1',
      'root/.hidden/in.txt': 'hidden inside',
      'root/swap.txt': 'original',
      'secret.txt': 'TOP SECRET',
      'outside/o.txt': 'outside',
      'rootx/s.txt': 'sibling secret',
    }),
  );
  root = join(base, 'root');
  await symlink('sub/file.txt', join(root, 'link-in'));
  await symlink('sub', join(root, 'link-dir-in'));
  await symlink('../secret.txt', join(root, 'link-out-file'));
  await symlink(join(base, 'outside'), join(root, 'link-out-dir'));
  await symlink('../rootx/s.txt', join(root, 'link-sibling'));
  await symlink('../rootx', join(root, 'link-sibling-dir'));
  await symlink('.env', join(root, 'link-dot'));
  await symlink('.hidden', join(root, 'link-dotdir'));
  await symlink('nowhere', join(root, 'dangling'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
});

resolver.after(async () => {
  await removeTree(base);
});

resolver('Resolver.resolve() finds the root, a folder and a file', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve([])).kind, 'dir');
  const dir = await r.resolve(['sub']);
  assert.is(dir.kind, 'dir');
  const file = await r.resolve(['sub', 'file.txt']);
  assert.is(file.kind, 'file');
  if (file.kind === 'file') {
    assert.is(file.path, join(root, 'sub', 'file.txt'));
    assert.is(file.stat.size, 'inside'.length);
  }
  assert.is((await r.resolve(['nope.txt'])).kind, 'missing');
  assert.is((await r.resolve(['sub', 'file.txt', 'x'])).kind, 'missing');
});

resolver('Resolver.resolve() follows a symlink that stays inside the root', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  const file = await r.resolve(['link-in']);
  assert.is(file.kind, 'file');
  if (file.kind === 'file') assert.is(file.path, join(root, 'sub', 'file.txt'));
  const viaDir = await r.resolve(['link-dir-in', 'file.txt']);
  assert.is(viaDir.kind, 'file');
  assert.is((await r.resolve(['link-dir-in'])).kind, 'dir');
});

resolver('Resolver.resolve() treats a symlink to a file outside the root as missing', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['link-out-file'])).kind, 'missing');
});

resolver('Resolver.resolve() treats a symlink to a folder outside the root as missing', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['link-out-dir'])).kind, 'missing');
  assert.is((await r.resolve(['link-out-dir', 'o.txt'])).kind, 'missing');
});

resolver('Resolver.resolve() does not fall for the sibling-prefix trap (root vs rootx)', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['link-sibling'])).kind, 'missing');
  assert.is((await r.resolve(['link-sibling-dir', 's.txt'])).kind, 'missing');
});

resolver('Resolver.resolve() treats a FIFO as missing without opening it', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['fifo'])).kind, 'missing');
});

resolver('Resolver.resolve() hides a dotfile reached through a symlink', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['link-dot'])).kind, 'missing');
  assert.is((await r.resolve(['link-dotdir', 'in.txt'])).kind, 'missing');
  const allowed = new Resolver(new Exposure({ root: root, dotfiles: true }));
  assert.is((await allowed.resolve(['link-dot'])).kind, 'file');
  assert.is((await allowed.resolve(['link-dotdir', 'in.txt'])).kind, 'file');
});

resolver('Resolver.resolve() treats a dangling symlink as missing', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  assert.is((await r.resolve(['dangling'])).kind, 'missing');
});

resolver('Resolver.resolve() does not trust its cache once a file is swapped for a link out', async () => {
  const r = new Resolver(new Exposure({ root: root, dotfiles: false }));
  const first = await r.resolve(['swap.txt']);
  assert.is(first.kind, 'file');
  await rm(join(root, 'swap.txt'));
  await symlink('../secret.txt', join(root, 'swap.txt'));
  assert.is((await r.resolve(['swap.txt'])).kind, 'missing');
  // and a file put back in its place is found again, with its new size
  await rm(join(root, 'swap.txt'));
  await writeFile(join(root, 'swap.tmp'), 'replaced!!');
  await rename(join(root, 'swap.tmp'), join(root, 'swap.txt'));
  const again = await r.resolve(['swap.txt']);
  assert.is(again.kind, 'file');
  if (again.kind === 'file') assert.is(again.stat.size, 'replaced!!'.length);
});

resolver.run();
