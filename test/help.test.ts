// --help and README.md's option tables, kept in step flag by flag: the same long flags both
// ways, each with the same short alias, value placeholder and group. Plus the parts of
// --help beyond the flags: groups, examples, environment variables, exit codes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../src/cli.js';
import { HELP_GROUPS } from '../src/program.js';
import { BIN } from './helpers/server.js';
import { runExe } from './helpers/bin.js';

const README = readFileSync(join(BIN, '..', '..', 'README.md'), 'utf8');

interface Flag {
  long: string;
  short: string | undefined;
  /** As written: "-p, --port <port>". */
  flags: string;
  group: string;
}

function helpFlags(): Flag[] {
  const program = buildProgram();
  return program.createHelp().visibleOptions(program).map((o) => ({
    long: o.long ?? '',
    short: o.short,
    flags: o.flags,
    group: o.helpGroupHeading ?? 'Options:',
  }));
}

/** Every flag row of README's "## Options" section, with the "### Group" it sits under. */
function readmeFlags(): Flag[] {
  const start = README.indexOf('\n## Options\n');
  assert.ok(start >= 0, 'README.md has no "## Options" section');
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end === -1 ? undefined : end);
  const flags: Flag[] = [];
  let group = '';
  for (const line of section.split('\n')) {
    const heading = /^### (.+)$/.exec(line);
    if (heading !== null) group = `${heading[1]}:`;
    if (!line.startsWith('| `')) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const m of firstCell.matchAll(/`([^`]+)`/g)) {
      const text = m[1] ?? '';
      if (!text.startsWith('-')) continue; // `dir`, the argument
      const long = /--[a-z][a-z-]*/.exec(text)?.[0] ?? '';
      const short = /^-[a-zA-Z](?=,)/.exec(text)?.[0];
      flags.push({ long, short, flags: text, group });
    }
  }
  return flags;
}

const docs = suite('README and --help');

docs('the option tables and --help name the same flags, both ways', () => {
  const help = helpFlags().map((f) => f.long).sort();
  const readme = readmeFlags().map((f) => f.long).sort();
  assert.ok(help.length >= 20, help.join(' '));
  assert.equal(readme.filter((f) => !help.includes(f)), [], 'in README.md but not in --help');
  assert.equal(help.filter((f) => !readme.includes(f)), [], 'in --help but not in README.md');
  assert.is(new Set(readme).size, readme.length, 'a flag appears twice in README.md');
});

docs('each flag has the same short alias, placeholder and group in both', () => {
  const readme = new Map(readmeFlags().map((f) => [f.long, f]));
  for (const h of helpFlags()) {
    const r = readme.get(h.long);
    if (r === undefined) continue; // reported by the test above
    assert.is(r.short, h.short, `${h.long}: short alias`);
    assert.is(r.flags, h.flags, `${h.long}: as written`);
    assert.is(r.group, h.group, `${h.long}: group`);
  }
});

docs('--help shows the groups in order, examples, environment and exit codes, no stray default', async () => {
  const r = await runExe(BIN, ['--help']);
  assert.is(r.code, 0);
  assert.is(r.stderr, '');
  const out = r.stdout;
  const at = HELP_GROUPS.map((g) => out.indexOf(`\n${g}\n`));
  assert.ok(at.every((i) => i > 0), `missing a group heading:\n${out}`);
  assert.equal([...at].sort((a, b) => a - b), at, 'groups out of order');
  assert.not.ok(out.includes('(default: [])'), 'stray "(default: [])"');
  assert.not.ok(/\n(Options|Global Options):\n/.test(out), 'an option outside the groups');
  assert.match(out, /\nExamples:\n {2}serve-here /);
  for (const name of ['SERVE_HERE_APP_TIMEOUT_MS', 'SERVE_HERE_DRAIN_TIMEOUT_MS', 'SERVE_HERE_BLOCKED_MS', 'NO_COLOR', 'FORCE_COLOR', 'BROWSER']) {
    assert.match(out, new RegExp(`\\n {2}(\\w+, )?${name}\\b`), `--help does not explain ${name}`);
    assert.ok(README.includes(name), `README.md does not mention ${name}`);
  }
  for (const code of ['0', '1', '2']) assert.match(out, new RegExp(`\\nExit codes:\\n(.*\\n)*  ${code}  \\S`), `exit code ${code}`);
  // Every line fits an 80-column terminal.
  const long = out.split('\n').filter((l) => l.length > 80);
  assert.equal(long, [], 'lines wider than 80 columns');
});

docs.run();
