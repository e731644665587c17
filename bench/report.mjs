// The markdown report of run.mjs and its targets (issue 11; issue 4's as an extra table).
import { installSizeTable } from './install-size.mjs';
import { labelOf, serverNamed } from './servers.mjs';

/** Issue 11: serve-here ÷ peer, measured in the same run. */
export const TARGETS = [
  { key: 'small', base: 'nginx', op: '>=', value: 0.8 },
  { key: 'medium', base: 'nginx', op: '>=', value: 1 },
  { key: 'small2k', base: 'nginx', op: '>=', value: 0.8 },
  { key: 'notfound', base: 'sirv', op: '>=', value: 1.5 },
  { key: 'startup', base: 'python', op: '<=', value: 1 },
  { key: 'rssLoad', base: 'sirv', op: '<=', value: 0.5 },
];
/** Issue 11, app rows: a ratio to bare node:http, or absolute figures. */
export const APP_TARGETS = [
  { key: 'appRps', base: 'bare', op: '>=', value: 0.35 },
  { key: 'appStartup', op: '<=', value: 200, unit: 'ms' },
  { key: 'appRss', op: '<=', value: 150, unit: 'MiB' },
];
/** Issue 4's targets, kept for reference only. */
export const EARLIER_TARGETS = [
  { key: 'small', base: 'sirv', op: '>=', value: 2.5 },
  { key: 'medium', base: 'sirv', op: '>=', value: 2 },
  { key: 'notfound', base: 'sirv', op: '>=', value: 1.2 },
  { key: 'big', base: 'sirv', op: '>=', value: 1 },
  { key: 'startup', base: 'python', op: '<=', value: 1 },
  { key: 'rssLoad', base: 'sirv', op: '<=', value: 0.6 },
  { key: 'listing', base: 'python', op: '>=', value: 4 },
];

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const fmtRatio = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const sign = (op) => (op === '>=' ? '≥' : '≤');
const baseLabel = (base) => (base === 'bare' ? 'bare node:http' : labelOf(serverNamed(base)));

/** { ratio, verdict } of serve-here's figure against a target (NaN ratio for absolute ones). */
function judge(t, value, baseValue) {
  const x = t.base ? value / baseValue : value;
  if (!Number.isFinite(x)) return { ratio: NaN, verdict: 'n/a' };
  const pass = t.op === '>=' ? x >= t.value : x <= t.value;
  return { ratio: t.base ? x : NaN, verdict: pass ? '**PASS**' : '**MISS**' };
}

/** The static rows: label, the figure per server, and its cell text. */
function staticRows(results, cases, startups) {
  const notPeer = (n, key) => serverNamed(n).cases !== undefined && !serverNamed(n).cases.includes(key);
  const rss = (field) => (n) => (notPeer(n, field) ? NaN : results[n][field] / 1024);
  const row = (key, label, value, cell = (n) => fmt1(value(n))) => ({ key, label, value, cell: (n) => (notPeer(n, key) ? '—' : results[n].failed ? 'did not start' : cell(n)) });
  return [
    ...cases.map((c) =>
      row(
        c.key,
        `${c.label}, ${c.unit}`,
        (n) => results[n].cases[c.key]?.[c.unit === 'MB/s' ? 'mbps' : 'rps'],
        (n) => {
          const v = results[n].correct?.[c.check ?? c.key];
          if (v !== 'ok') return v === 'no listing (404)' ? 'no listing' : 'wrong answer';
          const m = results[n].cases[c.key];
          return m ? fmtInt(c.unit === 'MB/s' ? m.mbps : m.rps) : 'not measured';
        },
      ),
    ),
    row('startup', `start → first response, ms (median of ${startups})`, (n) => results[n].startupMs),
    row('rssLoad', 'RSS after the file loads at 32 connections (1 KiB, 100 KiB, 404, 50 MiB), MiB', rss('rssLoadKiB')),
    row('rssConns', 'RSS after the 2,000-connection load too, MiB', rss('rssConnsKiB')),
    row('rssAll', 'RSS after the listing load too, MiB', rss('rssAllKiB')),
    row('rssIdle', 'RSS idle after start, MiB', rss('rssIdleKiB')),
  ];
}

function wrkNotes(results, names, cases) {
  const notes = [];
  for (const n of names) {
    const r = results[n];
    const label = labelOf(serverNamed(n));
    if (r.failed) notes.push(`- ${label}: did not start: ${r.failed}`);
    if (r.died) notes.push(`- ${label}: ${r.died}`);
    for (const e of r.loadErrors ?? []) notes.push(`- ${label}: ${e}`);
    for (const [k, v] of Object.entries(r.correct ?? {})) if (v !== 'ok' && v !== '—') notes.push(`- ${label} \`${k === 'index' ? '/' : cases.find((c) => c.key === k)?.path}\`: ${v}; not timed`);
    for (const c of cases) {
      const m = r.cases[c.key];
      if (!m) continue;
      const errs = m.connect + m.read + m.write + m.timeout + (c.key === 'notfound' ? 0 : m.status);
      if (errs > 0 || c.conns >= 1000)
        notes.push(`- ${label} ${c.key} (-c${c.conns}): wrk counted ${errs} errors (connect ${m.connect}, read ${m.read}, write ${m.write}, timeout ${m.timeout}${c.key === 'notfound' ? '' : `, non-2xx/3xx ${m.status}`}) in the median round; p99 latency ${fmt1(m.p99_us / 1000)} ms`);
    }
  }
  return notes;
}

function appTable(app) {
  if (!app) return '';
  const a = app.app;
  const b = app.bare;
  const rows = [
    { key: 'appRps', label: '`--app` hello world (fetch handler, reloading mode), req/s', a: a.rps, b: b.rps, cell: fmtInt },
    { key: 'appStartup', label: `spawn → first 200 on the app route, ms (median of ${a.startupRunsMs.length})`, a: a.startupMs, b: b.startupMs, cell: fmt1 },
    { key: 'appRss', label: `process-tree RSS after the load, MiB (serve-here: ${a.processes} processes)`, a: a.rssKiB / 1024, b: b.rssKiB / 1024, cell: fmt1 },
  ];
  const targets = [];
  const lines = ['| Measure | serve-here `--app` | bare node:http | serve-here ÷ bare | target | result |', '|---|---:|---:|---:|---|---|'];
  for (const r of rows) {
    const t = APP_TARGETS.find((x) => x.key === r.key);
    const { ratio, verdict } = judge(t, r.a, r.b);
    const text = t.base ? `${sign(t.op)} ${t.value}× ${baseLabel(t.base)}` : `${sign(t.op)} ${t.value} ${t.unit}`;
    targets.push({ ...t, figure: Number.isFinite(r.a) ? r.a : null, ratio: Number.isFinite(ratio) ? ratio : null, result: verdict.replaceAll('*', '') });
    lines.push(`| ${r.label} | ${a.failed ? 'did not start' : r.cell(r.a)} | ${b.failed ? 'did not start' : r.cell(r.b)} | ${fmtRatio(r.a / r.b)} | ${text} | ${verdict} |`);
  }
  const cpu = (o) => o.median?.cpuUsPerRequest;
  if (cpu(a) !== undefined && cpu(b) !== undefined) {
    lines.push(`| CPU per request in the median round, µs (serve-here: server process + app processes) | ${fmt1(cpu(a).server + cpu(a).apps)} (${fmt1(cpu(a).server)} + ${fmt1(cpu(a).apps)}) | ${fmt1(cpu(b).server)} | ${fmtRatio((cpu(a).server + cpu(a).apps) / cpu(b).server)} | | |`);
  }
  const notes = [];
  for (const [k, o] of Object.entries(app)) {
    if (o.failed) notes.push(`- app ${k}: did not start: ${o.failed}`);
    for (const e of o.loadErrors ?? []) notes.push(`- app ${k}: ${e}`);
    const m = o.median;
    if (m && m.connect + m.read + m.write + m.timeout + m.status > 0) notes.push(`- app ${k}: wrk counted errors (connect ${m.connect}, read ${m.read}, write ${m.write}, timeout ${m.timeout}, non-2xx/3xx ${m.status}) in the median round`);
  }
  return { md: `${lines.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`, targets };
}

export function report(results, meta, { names, cases, startups, app, install }) {
  const rows = staticRows(results, cases, startups);
  const targets = [];
  const lines = [`| Measure | ${names.map((n) => labelOf(serverNamed(n))).join(' | ')} | serve-here ÷ peer | target | result |`, `|---|${names.map(() => '---:').join('|')}|---:|---|---|`];
  const verdictOf = (t) => {
    const row = rows.find((r) => r.key === t.key);
    if (!names.includes('serve-here') || !names.includes(t.base)) return { ratio: NaN, verdict: 'n/a' };
    return judge(t, row.value('serve-here'), row.value(t.base));
  };
  for (const row of rows) {
    const t = TARGETS.find((x) => x.key === row.key);
    let cells = ' | | ';
    if (t) {
      const { ratio, verdict } = verdictOf(t);
      targets.push({ ...t, issue: 11, ratio: Number.isFinite(ratio) ? ratio : null, result: verdict.replaceAll('*', '') });
      cells = `${fmtRatio(ratio)} | ${sign(t.op)} ${t.value}× ${baseLabel(t.base)} | ${verdict}`;
    }
    lines.push(`| ${row.label} | ${names.map((n) => row.cell(n)).join(' | ')} | ${cells} |`);
  }
  const earlier = ['| Earlier target (issue 4) | serve-here ÷ peer | target | result |', '|---|---:|---|---|'];
  for (const t of EARLIER_TARGETS) {
    const { ratio, verdict } = verdictOf(t);
    earlier.push(`| ${rows.find((r) => r.key === t.key).label} | ${fmtRatio(ratio)} | ${sign(t.op)} ${t.value}× ${baseLabel(t.base)} | ${verdict.replaceAll('*', '')} |`);
  }
  const notes = wrkNotes(results, names, cases);
  const appPart = appTable(app);
  for (const t of appPart.targets ?? []) targets.push({ ...t, issue: 11 });
  const header = [
    `Run ${meta.date} · ${meta.machine.cpus} CPUs, ${meta.machine.cpuModel} · node ${meta.machine.node} · wrk ${meta.machine.wrk} · ${meta.machine.pinned ? 'servers on CPU 0, wrk on CPU 1' : 'unpinned'}`,
    `Load average at start ${meta.loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${meta.loadEnd.map((x) => x.toFixed(2)).join(' ')} · ${meta.mode} · ${meta.took}`,
    `Versions: ${names.map((n) => `${labelOf(serverNamed(n))} ${serverNamed(n).version}`).join(', ')}`,
  ];
  const parts = [header.join('  \n'), `${lines.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`];
  if (app) parts.push(`App hosting (same run):\n\n${appPart.md}`);
  if (install) parts.push(`Install size (same run):\n\n${installSizeTable(install)}`);
  parts.push(`${earlier.join('\n')}\n`);
  return { md: `${parts.join('\n\n').replace(/\n{3,}/g, '\n\n')}`, targets };
}
