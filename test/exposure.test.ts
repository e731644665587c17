// Tests for src/exposure/: the policy's answers for reads, writes and the exporters' deny rules,
// and the sandbox rule for every type mime knows. The same rules on a real server:
// test/exposure-matrix.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import mime from 'mime';
import { denyRulesFor, Exposure, MODULE_EXTENSIONS } from '../src/exposure/policy.js';
import { needsSandbox } from '../src/exposure/sandbox.js';
import { tempNameFor } from '../src/share/upload-names.js';
import { makeTree, removeTree } from './helpers/server.js';
import { mimeExtensions } from './helpers/mime-types.js';

let root = '';
const policy = suite('exposure policy');

policy.before(async () => {
  root = realpathSync(await makeTree({ 'server/api.mjs': 'x', 'server/lib/util.mjs': 'x', 'certs/key.pem': 'k', 'public/a.txt': 'a', 'app.env': 'A=1', '.config/serve-here/https-key.pem': 'k' }));
  await symlink('/etc', join(root, 'out'));
});
policy.after(() => removeTree(root));

const make = (over: Partial<ConstructorParameters<typeof Exposure>[0]> = {}): Exposure =>
  new Exposure({ root, dotfiles: false, apps: [join(root, 'server/api.mjs')], envFile: join(root, 'app.env'), tlsFiles: [join(root, 'certs/key.pem')], secretFolders: [join(root, '.config/serve-here')], appCwd: root, ...over });

policy('reads: hidden names, .git and env files always, protected files and folders, links out', () => {
  const e = make({ dotfiles: true });
  const ok = (p: string): boolean => e.mayRead(join(root, p));
  assert.ok(ok('public/a.txt'));
  assert.ok(ok('.well-known'), '--dotfiles serves dot names');
  for (const p of ['.git/config', 'sub/.GIT/HEAD', '.env', '.env.local', 'server/api.mjs', 'SERVER/API.MJS', 'server/package.json', 'package.json', 'tsconfig.json', 'server/jsconfig.json', '.npmrc', 'app.env', 'certs/key.pem', '.config/serve-here', '.config/serve-here/https-key.pem']) {
    assert.not.ok(ok(p), p);
  }
  assert.ok(ok('public/package.json'), 'package.json only where an app resolves from');
  assert.not.ok(e.mayRead(join(root, 'out/passwd'), '/etc/passwd'), 'a link out of the root');
  assert.not.ok(e.mayRead(join(root, 'ok.txt'), join(root, 'app.env')), 'a link to a protected file');
  assert.not.ok(make().mayRead(join(root, '.well-known')), 'dot names hidden without --dotfiles');
  assert.not.ok(e.mayRead(join(root, `public/${tempNameFor('big.iso', 'a1b2c3d4e5f6')}`)), 'an upload still arriving, even with --dotfiles');
});

policy('modules loaded later join the graph', () => {
  const e = make();
  assert.ok(e.mayRead(join(root, 'server/lib/util.mjs')));
  e.addAppFiles([join(root, 'server/lib/util.mjs')]);
  assert.not.ok(e.mayRead(join(root, 'server/lib/util.mjs')));
  assert.not.ok(e.mayRead(join(root, 'server/lib/package.json')));
});

policy('writes: pages never; while an app runs, nothing its module resolution could pick up', () => {
  const e = make();
  const refused = (p: string): string | undefined => e.writeRefusal(join(root, p));
  for (const p of ['index.html', 'sub/INDEX.HTM', '404.html', 'server/node_modules/dep/index.js', 'public/node_modules/x/a.txt', 'public/package.json', 'x/tsconfig.json', 'a/jsconfig.json', 'public/addon.node', 'server/new.mjs', 'server/deep/er/new.ts', 'server/data.json', '.git/hooks/x', 'app.env', 'server/api.mjs']) {
    assert.type(refused(p), 'string', p);
  }
  for (const p of ['public/photo.jpg', 'public/script.js', 'notes.txt', 'server/readme.txt']) assert.is(refused(p), undefined, p);
  const noApp = make({ apps: [] });
  assert.is(noApp.writeRefusal(join(root, 'node_modules/x/index.js')), undefined, 'no app, no module rules');
  assert.type(noApp.writeRefusal(join(root, 'index.html')), 'string');
  for (const ext of MODULE_EXTENSIONS) assert.type(refused(`server/x${ext}`), 'string', ext);
});

policy('deny rules for exporters: root-relative, what is outside left out', () => {
  const rules = denyRulesFor({ root, dotfiles: false, apps: [join(root, 'server/api.mjs')], envFile: join(root, 'app.env'), tlsFiles: [join(root, 'certs/key.pem'), '/elsewhere/cert.pem'], secretFolders: [join(root, '.config/serve-here')], appCwd: root });
  assert.is(rules.dotfiles, true);
  assert.ok(rules.names.includes('.git'));
  for (const f of ['server/api.mjs', 'app.env', 'certs/key.pem', 'package.json', 'server/package.json', 'server/tsconfig.json', '.npmrc']) assert.ok(rules.files.includes(f), f);
  assert.not.ok(rules.files.some((f) => f.startsWith('/') || f.startsWith('..')));
  assert.equal(rules.folders, ['.config/serve-here']);
  assert.equal(rules.appFolders, ['server']);
  assert.is(denyRulesFor({ root, dotfiles: true }).dotfiles, false);
  assert.equal(denyRulesFor({ root: join(root, '.config/serve-here'), dotfiles: true, secretFolders: [join(root, '.config/serve-here')] }).folders, ['']);
});

const sandbox = suite('sandbox by Content-Type');

sandbox('every type mime knows: only the passive allow-list goes unsandboxed', () => {
  const passive = /^(image\/(?!svg)|audio\/|video\/)|^(text\/plain|application\/pdf|application\/octet-stream|application\/zip)$/;
  const seen = new Set<string>();
  // Each extension mime documents, through mime's own lookup (as the server's contentTypeFor does).
  for (const ext of mimeExtensions()) {
    const type = mime.getType(`x.${ext}`);
    if (type !== null) seen.add(type);
  }
  assert.ok(seen.size > 500, `mime knew ${seen.size} types`);
  for (const type of seen) assert.is(needsSandbox(type), !passive.test(type) || type.includes('xml'), type);
  for (const t of ['text/html', 'text/html; charset=utf-8', 'application/xhtml+xml', 'image/svg+xml', 'application/mathml+xml', 'application/rdf+xml', 'text/xml', 'application/javascript', undefined]) assert.ok(needsSandbox(t), String(t));
  for (const t of ['image/png', 'text/plain; charset=utf-8', 'video/mp4', 'application/pdf', 'application/zip']) assert.not.ok(needsSandbox(t), t);
});

policy.run();
sandbox.run();
