// Tests for src/log.ts: line formats, escaping of control characters, colour, quiet, and the
// line a real request produces.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createLogger, escapeControl, formatBytes, formatCombined, formatDev, formatJson, type RequestRecord } from '../src/log.js';
import { Capture, makeTree, removeTree, request, startServer, type Running } from './helpers/server.js';
import { waitUntil } from './helpers/http.js';

const plain = createLogger({ out: new Capture(), err: new Capture(), color: false }).colors;

function record(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    time: new Date(2024, 2, 5, 14, 2, 11),
    ip: '127.0.0.1',
    method: 'GET',
    url: '/index.html',
    httpVersion: '1.1',
    status: 200,
    bytes: 1234,
    ms: 0.84,
    via: 'static',
    aborted: false,
    referer: undefined,
    userAgent: 'curl/8.0',
    ...over,
  };
}

const HOSTILE_URL = '/a\x1b[31mred\r\nGET /forged 200 1 B 1 ms\x9b2J\x07\\x';
const HOSTILE_METHOD = 'GE\rT\x1b[2K';
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

// --- formats -------------------------------------------------------------------------------------

const formats = suite('formats');

formats('formatDev() prints time, method, path, status, size and duration', () => {
  assert.is(formatDev(record(), plain), '14:02:11 200 GET /index.html 1.2 KiB 0.8 ms\n');
  assert.is(formatDev(record({ ms: 12.6, bytes: 0, status: 404 }), plain), '14:02:11 404 GET /index.html 0 B 13 ms\n');
});

formats('formatDev() marks aborted responses and names the app that answered', () => {
  assert.is(formatDev(record({ aborted: true }), plain), '14:02:11 200 GET /index.html 1.2 KiB 0.8 ms (aborted)\n');
  assert.is(formatDev(record({ via: '/api' }), plain), '14:02:11 200 GET /index.html 1.2 KiB 0.8 ms /api\n');
});

formats('formatCombined() prints the Apache combined format', () => {
  const line = formatCombined(record({ referer: 'http://x/' }));
  assert.match(line, /^127\.0\.0\.1 - - \[05\/Mar\/2024:14:02:11 [+-]\d{4}\] "GET \/index\.html HTTP\/1\.1" 200 1234 "http:\/\/x\/" "curl\/8\.0"\n$/);
  assert.match(formatCombined(record({ bytes: 0, userAgent: undefined })), /" 200 - "-" "-"\n$/);
});

formats('formatJson() prints one JSON object with the request fields', () => {
  const line = formatJson(record());
  assert.ok(line.endsWith('}\n'));
  const obj = JSON.parse(line) as Record<string, unknown>;
  assert.equal(obj, { time: record().time.toISOString(), ip: '127.0.0.1', method: 'GET', url: '/index.html', status: 200, bytes: 1234, ms: 0.84, via: 'static', userAgent: 'curl/8.0' });
  assert.is((JSON.parse(formatJson(record({ aborted: true }))) as { aborted?: boolean }).aborted, true);
});

formats('formatBytes() picks a unit', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1023), '1023 B');
  assert.is(formatBytes(1024), '1.0 KiB');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(50 * 1024), '50 KiB');
  assert.is(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  assert.is(formatBytes(3 * 1024 ** 4), '3.0 TiB');
});

formats.run();

// --- escaping --------------------------------------------------------------------------------------

const escaping = suite('escaping');

escaping('escapeControl() turns C0, DEL and C1 controls into \\xHH and doubles backslashes', () => {
  assert.is(escapeControl('a\x1b[31mb'), 'a\\x1b[31mb');
  assert.is(escapeControl('\r\n\t\0'), '\\x0d\\x0a\\x09\\x00');
  assert.is(escapeControl('\x7f\x9b\x80'), '\\x7f\\x9b\\x80');
  assert.is(escapeControl('a\\x1b'), 'a\\\\x1b');
  assert.is(escapeControl('é 日本 /ok'), 'é 日本 /ok');
});

escaping('formatDev() escapes controls in url and method: one line, no escape sequences', () => {
  const line = formatDev(record({ url: HOSTILE_URL, method: HOSTILE_METHOD }), plain);
  assert.is(line.split('\n').length, 2, JSON.stringify(line));
  assert.not.match(line.slice(0, -1), RAW_CONTROL);
  assert.ok(line.includes('\\x1b[31mred\\x0d\\x0aGET /forged'));
  assert.ok(line.includes('\\x9b2J'));
  assert.ok(line.includes('GE\\x0dT\\x1b[2K'));
});

escaping('formatCombined() escapes controls and quotes: one line', () => {
  const line = formatCombined(record({ url: `${HOSTILE_URL}" 200 "x`, method: HOSTILE_METHOD, userAgent: 'ua\r\nx"y', referer: '\x1b]0;title\x07' }));
  assert.is(line.split('\n').length, 2, JSON.stringify(line));
  assert.not.match(line.slice(0, -1), RAW_CONTROL);
  // the request field stays one quoted field: every inner quote is escaped
  const request = /^[^"]*"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '';
  assert.ok(request.endsWith('HTTP/1.1'), request);
  assert.ok(line.includes('ua\\x0d\\x0ax\\"y'));
});

escaping('formatJson() escapes controls (C0 and C1) and round-trips the values', () => {
  const rec = record({ url: `${HOSTILE_URL}\u2028`, method: HOSTILE_METHOD, userAgent: 'ua\x85' });
  const line = formatJson(rec);
  assert.is(line.split('\n').length, 2, JSON.stringify(line));
  assert.not.match(line.slice(0, -1), RAW_CONTROL);
  assert.not.ok(line.includes('\u2028'));
  const obj = JSON.parse(line) as { url: string; method: string; userAgent: string };
  assert.is(obj.url, rec.url);
  assert.is(obj.method, HOSTILE_METHOD);
  assert.is(obj.userAgent, 'ua\x85');
});

escaping('the dev format escapes an app label too', () => {
  const line = formatDev(record({ via: 'x\x1b[2Jy' }), plain);
  assert.not.match(line.slice(0, -1), RAW_CONTROL);
});

escaping.run();

// --- colour and quiet --------------------------------------------------------------------------------

const output = suite('colour and quiet');

/** Log one record through a fresh logger and return what it wrote. */
function logOnce(opts: Parameters<typeof createLogger>[0], rec: RequestRecord): string {
  const out = new Capture();
  const logger = createLogger({ ...opts, out, err: new Capture() });
  logger.request(rec);
  logger.flush();
  return out.text;
}

output('color: true paints the status by class', () => {
  const colours: [number, string][] = [
    [200, '\x1b[32m200'],
    [304, '\x1b[36m304'],
    [404, '\x1b[33m404'],
    [500, '\x1b[31m500'],
  ];
  for (const [status, painted] of colours) {
    const text = logOnce({ color: true }, record({ status }));
    assert.ok(text.includes(painted), `${status}: ${JSON.stringify(text)}`);
  }
});

output('color: false writes no ANSI escapes', () => {
  const text = logOnce({ color: false }, record({ status: 500 }));
  assert.not.ok(text.includes('\x1b'), JSON.stringify(text));
  assert.is(text, '14:02:11 500 GET /index.html 1.2 KiB 0.8 ms\n');
});

output('a logger keeps its colour choice when another logger makes the opposite one', () => {
  const outColour = new Capture();
  const coloured = createLogger({ color: true, out: outColour, err: new Capture() });
  const outPlain = new Capture();
  const uncoloured = createLogger({ color: false, out: outPlain, err: new Capture() });
  coloured.request(record());
  coloured.flush();
  uncoloured.request(record());
  uncoloured.flush();
  assert.ok(outColour.text.includes('\x1b['), `coloured logger lost its colours: ${JSON.stringify(outColour.text)}`);
  assert.not.ok(outPlain.text.includes('\x1b['), 'plain logger has colours');
  // and the other way round
  const outPlain2 = new Capture();
  const plain2 = createLogger({ color: false, out: outPlain2, err: new Capture() });
  createLogger({ color: true, out: new Capture(), err: new Capture() });
  plain2.request(record());
  plain2.flush();
  assert.not.ok(outPlain2.text.includes('\x1b['), `plain logger gained colours: ${JSON.stringify(outPlain2.text)}`);
});

output('quiet suppresses request lines but not errors or warnings', () => {
  const out = new Capture();
  const err = new Capture();
  const logger = createLogger({ quiet: true, out, err, color: false });
  logger.request(record());
  logger.flush();
  assert.is(out.text, '');
  logger.error('something broke');
  logger.warn('careful');
  assert.is(err.text, 'something broke\ncareful\n');
});

output('request lines are batched and written in order; info flushes them first', async () => {
  const out = new Capture();
  const logger = createLogger({ out, err: new Capture(), color: false });
  logger.request(record({ url: '/1' }));
  logger.request(record({ url: '/2' }));
  assert.is(out.text, '', 'written later, in one go');
  logger.info('banner');
  assert.is(out.text.replace(/^\S+ \d{3} GET (\S+) .*$/gm, '$1'), '/1\n/2\nbanner\n');
  logger.request(record({ url: '/3' }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(out.text.endsWith('200 GET /3 1.2 KiB 0.8 ms\n'), JSON.stringify(out.text));
});

output('the json and combined formats are chosen by the format option', () => {
  assert.ok(JSON.parse(logOnce({ format: 'json', color: false }, record())) !== null);
  assert.match(logOnce({ format: 'combined', color: false }, record()), /^127\.0\.0\.1 - - \[/);
});

output.run();

// --- a real server ---------------------------------------------------------------------------------

const live = suite('request lines from a server');
let base = '';
let srv: Running;
const BIG = randomBytes(4 * 1024 * 1024);

live.before(async () => {
  base = await makeTree({ 'file.txt': 'hello!', 'big.bin': BIG });
  srv = await startServer({ root: base });
});
live.after(async () => {
  await srv.close();
  await removeTree(base);
});

/** The first `count` log lines written after offset `start` of the captured output. */
async function linesAfter(start: number, count: number): Promise<string[]> {
  return waitUntil(() => {
    const lines = srv.out.text.slice(start).split('\n').filter((l) => l !== '');
    return lines.length >= count ? lines : undefined;
  }, 3000, `${count} log line(s)`);
}

live('a request produces one line with method, path, status, bytes and duration', async () => {
  const start = srv.out.text.length;
  const res = await request(srv.port, '/file.txt?x=1');
  assert.is(res.status, 200);
  const [line] = await linesAfter(start, 1);
  assert.match(line ?? '', /^\d\d:\d\d:\d\d 200 GET \/file\.txt\?x=1 6 B \d+(\.\d)? ms$/);
  // and only one line for it
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(srv.out.text.slice(start).split('\n').filter((l) => l !== '').length, 1);
});

live('a 404 and a HEAD are logged with their status and size', async () => {
  let start = srv.out.text.length;
  await request(srv.port, '/nope');
  const [missing] = await linesAfter(start, 1);
  assert.match(missing ?? '', / 404 GET \/nope \d+ B /);
  start = srv.out.text.length;
  await request(srv.port, '/file.txt', { method: 'HEAD' });
  const [head] = await linesAfter(start, 1);
  assert.match(head ?? '', / 200 HEAD \/file\.txt 0 B /);
});

live('a response the client abandons is logged once, marked aborted', async () => {
  const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/big.bin', agent: false });
  req.on('error', () => {});
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.on('error', () => {});
  const lines = linesAfter(srv.out.text.length, 1);
  res.destroy();
  const [line] = await lines;
  assert.match(line ?? '', / 200 GET \/big\.bin .* \(aborted\)$/);
});

live('a request for a path with encoded controls logs them as sent (escaped), on one line', async () => {
  const start = srv.out.text.length;
  await request(srv.port, '/a%1b%5b31mb%0d%0aforged');
  const [line] = await linesAfter(start, 1);
  assert.match(line ?? '', / 404 GET \/a%1b%5b31mb%0d%0aforged /);
});

live.run();

const readable = suite('readable paths and streams');

readable('formatDev() shows non-ASCII names decoded, still escaped, and leaves ASCII escapes alone', () => {
  const colours = createLogger({ color: false }).colors;
  const line = formatDev({ ...record(), url: '/caf%C3%A9/%E6%97%A5%2F%0A%FF/%C2%85' }, colours);
  assert.match(line, '/café/日%2F%0A%FF/\\x85');
});

readable('with --log json, stdout holds only JSON lines (banner and notices go to stderr)', () => {
  const out = new Capture();
  const err = new Capture();
  const log = createLogger({ format: 'json', out, err, color: false });
  log.info('serve-here banner');
  log.request(record());
  log.flush();
  assert.is(err.text, 'serve-here banner\n');
  for (const line of out.text.trim().split('\n')) JSON.parse(line);
});

readable.run();
