// Tests for src/share/qr.ts: the terminal drawing is rendered to a PNG in a light and a dark theme
// and decoded with a real decoder, zbarimg (Debian package zbar-tools). Without zbarimg the decode
// tests print a SKIP note and pass; CI installs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { renderQr } from '../src/share/qr.js';
import { crc32, DARK_THEME, LIGHT_THEME, writeTerminalPng, type Theme } from './helpers/terminal-image.js';
import { skip } from './helpers/skip.js';

const URLS = [
  'http://192.168.1.23:8000/?serve-here-key=Zm9vYmFyYmF6cXV4MTIzNA',
  'https://[fd12:3456:789a:1::2]:8443/?serve-here-key=-_-_AAAAzzzz0123456789',
  'http://localhost:8000/',
];

const haveZbar = spawnSync('zbarimg', ['--version'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'serve-here-qr-'));

/** Render `lines` in `theme` as a camera sees it (binarized), decode with zbarimg; undefined when nothing decodes. */
function decode(lines: string[], theme: Theme, name: string): string | undefined {
  const file = join(dir, `${name}-${theme.name}.png`);
  writeTerminalPng(file, lines, theme, { binarize: true });
  const r = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.replace(/\n$/, '') : undefined;
}

function skipNote(): boolean {
  if (haveZbar) return false;
  skip('missing', 'zbarimg not found; QR decode not checked (apt-get install -y zbar-tools)');
  return true;
}

const shape = suite('renderQr shape');

shape('renderQr() sets both colours on every line and resets at its end', () => {
  const lines = renderQr(URLS[0] ?? '');
  for (const line of lines) {
    assert.ok(line.startsWith('\x1b[38;5;16;48;5;231m'), JSON.stringify(line.slice(0, 20)));
    assert.ok(line.endsWith('\x1b[0m'));
    const body = line.slice('\x1b[38;5;16;48;5;231m'.length, -'\x1b[0m'.length);
    assert.match(body, /^[ ▀▄█]+$/u);
  }
});

shape('renderQr() draws a square with a 4-module quiet zone, two modules per line', () => {
  for (const color of [true, false]) {
    const lines = renderQr(URLS[0] ?? '', { color }).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    const width = [...(lines[0] ?? '')].length;
    assert.ok(lines.every((l) => [...l].length === width), 'same width everywhere');
    assert.is(lines.length, Math.ceil(width / 2));
    const quiet = color ? ' ' : '█';
    assert.is(lines[0], quiet.repeat(width), 'rows 0-1 are quiet');
    assert.is(lines[1], quiet.repeat(width), 'rows 2-3 are quiet');
    for (const l of lines.slice(0, -2)) assert.ok(l.startsWith(quiet.repeat(4)) && l.endsWith(quiet.repeat(4)));
  }
});

shape('renderQr() without colour prints no escape codes', () => {
  assert.not.ok(renderQr(URLS[0] ?? '', { color: false }).some((l) => l.includes('\x1b')));
});

shape('crc32() of the PNG helper matches the standard check value', () => {
  assert.is(crc32(Buffer.from('123456789')), 0xcbf43926);
});

shape.run();

const scan = suite('renderQr scans');

scan.after(() => rmSync(dir, { recursive: true, force: true }));

scan('renderQr() in colour decodes on a light and a dark theme', () => {
  if (skipNote()) return;
  URLS.forEach((url, i) => {
    const lines = renderQr(url);
    assert.is(decode(lines, LIGHT_THEME, `color-${i}`), url, `light theme: ${url}`);
    assert.is(decode(lines, DARK_THEME, `color-${i}`), url, `dark theme: ${url}`);
  });
});

scan('renderQr() without colour decodes on a dark theme', () => {
  if (skipNote()) return;
  URLS.forEach((url, i) => {
    assert.is(decode(renderQr(url, { color: false }), DARK_THEME, `plain-${i}`), url, url);
  });
});

scan('renderQr() without colour is inverted on a light theme (the documented limit)', () => {
  if (skipNote()) return;
  const url = URLS[0] ?? '';
  const lines = renderQr(url, { color: false });
  assert.is(decode(lines, LIGHT_THEME, 'plain-light'), undefined, 'zbar reads no inverted code');
});

scan.run();
