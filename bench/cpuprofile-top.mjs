#!/usr/bin/env node
// Sum self time by function and by source file in a V8 .cpuprofile (from `node --cpu-prof`).
//   node cpuprofile-top.mjs /tmp/prof/CPU.*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top) || 25;

function shortUrl(url) {
  if (url === '') return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm !== -1) return u.slice(nm + '/node_modules/'.length);
  const d = u.indexOf('/dist/');
  if (d !== -1) return u.slice(d + 1);
  return u;
}

/** Where a frame belongs: this project's file, a package, node's own JS, or a V8 pseudo-frame. */
function groupOf(url, name) {
  if (url === '') return name.startsWith('(') ? name : '(native / V8 builtins)';
  const s = shortUrl(url);
  if (s.startsWith('node:')) return s;
  if (s.startsWith('dist/')) return s;
  if (url.includes('/node_modules/')) return `pkg ${s.split('/')[0].startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]}`;
  return s;
}

for (const file of positionals) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Sample i is attributed the time until the next sample (as Chrome DevTools does).
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const byFn = new Map();
  const byGroup = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') idle += us;
    const key = url ? `${name}  ${shortUrl(url)}:${lineNumber + 1}` : name;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const g = groupOf(url, name);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`\n${file}\n  profile ${ms(total).trim()}, idle ${ms(idle).trim()}, busy ${ms(busy).trim()} (percentages are of busy time)`);
  console.log(`\n  Top ${top} functions by self time`);
  for (const [k, us] of [...byFn].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
  console.log('\n  Self time by file / package');
  for (const [k, us] of [...byGroup].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
}
