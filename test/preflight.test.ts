// Tests for src/preflight.ts: the file-system checks before serving, and the banner's
// "inside the served folder" warnings.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { checkApps, checkDir, insideWarnings } from '../src/preflight.js';
import { ServeHereError, UsageError } from '../src/errors.js';
import { parseOptions } from '../src/options.js';
import { makeTree, removeTree } from './helpers/server.js';

let base = '';
const test = suite('preflight');
test.before(async () => {
  base = realpathSync(await makeTree({ 'site/app.ts': '', 'site/.env': '', 'site/..odd.ts': '', 'api.ts': '', 'pkg/server.mjs': '', 'pkg/README.md': '' }));
});
test.after(() => removeTree(base));

test('insideWarnings() names app modules and the env file inside the root, relative to it', () => {
  const root = join(base, 'site');
  const opts = parseOptions({ app: [join(root, 'app.ts'), `/api=${join(base, 'api.ts')}`, `/odd=${join(root, '..odd.ts')}`], envFile: join(root, '.env') });
  assert.equal(insideWarnings(opts, root), [
    'app.ts is inside the served folder; serve-here never serves it',
    '..odd.ts is inside the served folder; serve-here never serves it',
    '.env is inside the served folder; serve-here never serves it',
  ]);
});

test('insideWarnings() is silent for files outside the root', () => {
  const opts = parseOptions({ app: [join(base, 'api.ts')], envFile: join(base, 'other.env') });
  assert.equal(insideWarnings(opts, join(base, 'site')), []);
});

test('checkApps() suggests the likeliest module in a folder', () => {
  try {
    checkApps(parseOptions({ app: [join(base, 'pkg')] }));
    assert.unreachable('a folder was accepted');
  } catch (error) {
    assert.ok(error instanceof UsageError);
    assert.ok(error.hint?.endsWith(`${join(base, 'pkg', 'server.mjs')}\`.`), error.hint);
  }
});

test('checkApps() accepts an existing module; a missing one is a runtime error (exit 1)', () => {
  checkApps(parseOptions({ app: [join(base, 'api.ts')] }));
  try {
    checkApps(parseOptions({ app: [join(base, 'nope.ts')] }));
    assert.unreachable('a missing module was accepted');
  } catch (error) {
    assert.ok(error instanceof ServeHereError && !(error instanceof UsageError));
    assert.is(error.exitCode, 1);
  }
});

test('checkDir() makes a numeric non-folder a usage error, any other missing folder exit 1', () => {
  assert.throws(() => checkDir('8080'), (e: unknown) => e instanceof UsageError && e.exitCode === 2);
  assert.throws(() => checkDir(join(base, 'nope')), (e: unknown) => e instanceof ServeHereError && e.exitCode === 1);
  assert.is(checkDir(join(base, 'site')), join(base, 'site'));
});

test.run();
