// Tests for src/app/detect.ts: which calling convention an app module's exports follow.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import express from 'express';
import { AppShapeError, detectApp, type DetectedApp } from '../src/app/detect.js';

const FILE = '/srv/app.ts';

/** Call a detected fetch handler and return the response text. */
async function callFetch(app: DetectedApp, url = 'http://localhost/'): Promise<string> {
  assert.is(app.style, 'fetch');
  if (app.style !== 'fetch') throw new Error('not fetch');
  const res = await app.handler(new Request(url), { remoteAddr: { transport: 'tcp', hostname: '127.0.0.1', port: 1 }, prefix: '' });
  return res.text();
}

// ---- fetch handlers ---------------------------------------------------------------------------

const fetchStyle = suite('detectApp() fetch handlers');

fetchStyle('detectApp() finds `export default { fetch }` and keeps `this`', async () => {
  const mod = {
    default: {
      greeting: 'hi from this',
      fetch(this: { greeting: string }) {
        return new Response(this.greeting);
      },
    },
  };
  const app = detectApp(mod, FILE);
  assert.is(app.style, 'fetch');
  assert.is(app.description, 'fetch handler: default export { fetch }');
  assert.is(await callFetch(app), 'hi from this');
});

fetchStyle('detectApp() takes a default function of one parameter as a fetch handler', async () => {
  const mod = { default: (request: Request) => new Response(`path ${new URL(request.url).pathname}`) };
  const app = detectApp(mod, FILE);
  assert.is(app.style, 'fetch');
  assert.is(app.description, 'fetch handler: default export function');
  assert.is(await callFetch(app, 'http://localhost/x'), 'path /x');
});

fetchStyle('detectApp() finds a named `export function fetch`', async () => {
  const mod = { fetch: () => new Response('named') };
  const app = detectApp(mod, FILE);
  assert.is(app.style, 'fetch');
  assert.is(app.description, 'fetch handler: export function fetch');
  assert.is(await callFetch(app), 'named');
});

fetchStyle('detectApp() finds a Hono app exported as default', async () => {
  const hono = new Hono();
  hono.get('/hello', (c) => c.text('hono says hi'));
  const app = detectApp({ default: hono }, FILE);
  assert.is(app.style, 'fetch');
  assert.is(app.description, 'fetch handler: default export { fetch }');
  assert.is(await callFetch(app, 'http://localhost/hello'), 'hono says hi');
});

fetchStyle('detectApp() finds a CommonJS-compiled module at default.default.fetch', async () => {
  const mod = { default: { default: { fetch: () => new Response('interop') } } };
  const app = detectApp(mod, FILE);
  assert.is(app.style, 'fetch');
  assert.is(await callFetch(app), 'interop');
});

fetchStyle.run();

// ---- node (req, res) --------------------------------------------------------------------------

const nodeStyle = suite('detectApp() node listeners');

nodeStyle('detectApp() takes a default function of two parameters as a node listener', () => {
  const listener = (_req: IncomingMessage, res: ServerResponse): void => void res.end('node');
  const app = detectApp({ default: listener }, FILE);
  assert.is(app.style, 'node');
  assert.is(app.description, 'node (req, res): default export function');
  assert.is(app.handler, listener);
});

nodeStyle('detectApp() finds an Express app exported as default', () => {
  const ex = express();
  const app = detectApp({ default: ex }, FILE);
  assert.is(app.style, 'node');
  assert.is(app.description, 'node (req, res): default export Express/Connect app');
  assert.is(app.handler, ex as unknown);
});

nodeStyle('detectApp() calls callback() on a Koa-like object', () => {
  const listener = (_req: IncomingMessage, res: ServerResponse): void => void res.end('koa');
  let calls = 0;
  const koa = {
    use() {
      return this;
    },
    callback() {
      calls++;
      return listener;
    },
  };
  const app = detectApp({ default: koa }, FILE);
  assert.is(app.style, 'node');
  assert.is(app.description, 'node (req, res): default export Koa app');
  assert.is(calls, 1);
  assert.is(app.handler, listener);
});

nodeStyle('detectApp() uses handler() of a polka-like object {handler, listen}, bound to it', () => {
  const polka = {
    seen: [] as string[],
    handler(this: { seen: string[] }, req: IncomingMessage) {
      this.seen.push(req.url ?? '');
    },
    listen() {},
  };
  const app = detectApp({ default: polka }, FILE);
  assert.is(app.style, 'node');
  assert.is(app.description, 'node (req, res): default export polka app');
  if (app.style !== 'node') return;
  app.handler({ url: '/p' } as IncomingMessage, {} as ServerResponse);
  assert.equal(polka.seen, ['/p']);
});

nodeStyle.run();

// ---- WSGI-style -------------------------------------------------------------------------------

const wsgiStyle = suite('detectApp() WSGI-style');

wsgiStyle('detectApp() finds `export function wsgi`, ahead of a default fetch export', () => {
  const wsgi = (_environ: Record<string, unknown>, _start: unknown): string[] => ['x'];
  const app = detectApp({ wsgi, default: { fetch: () => new Response('') } }, FILE);
  assert.is(app.style, 'wsgi');
  assert.is(app.description, 'WSGI-style: export function wsgi');
  assert.is(app.handler, wsgi);
});

wsgiStyle.run();

// ---- --app-style ------------------------------------------------------------------------------

const forced = suite('detectApp() with --app-style');

forced('detectApp() --app-style node takes a one-parameter default function as a node listener', () => {
  const fn = (req: IncomingMessage): void => void req;
  const app = detectApp({ default: fn }, FILE, 'node');
  assert.is(app.style, 'node');
  assert.is(app.handler, fn);
});

forced('detectApp() --app-style fetch takes a two-parameter default function as a fetch handler', () => {
  const fn = (request: Request, info: unknown): Response => new Response(String(Boolean(request) && Boolean(info)));
  const app = detectApp({ default: fn }, FILE, 'fetch');
  assert.is(app.style, 'fetch');
  assert.is(app.handler, fn);
});

forced('detectApp() --app-style wsgi takes a default function as a WSGI app', () => {
  const fn = (_environ: unknown, _start: unknown): string[] => [];
  const app = detectApp({ default: fn }, FILE, 'wsgi');
  assert.is(app.style, 'wsgi');
  assert.is(app.description, 'WSGI-style: default export');
});

forced('detectApp() --app-style node ignores a fetch method and uses the Express app', () => {
  const ex = express();
  const app = detectApp({ default: ex, fetch: () => new Response('') }, FILE, 'node');
  assert.is(app.style, 'node');
  assert.is(app.handler, ex as unknown);
});

forced('detectApp() --app-style node on a module with only a fetch object throws AppShapeError', () => {
  assert.throws(() => detectApp({ default: { fetch: () => new Response('') } }, FILE, 'node'), (e: unknown) => e instanceof AppShapeError && /as --app-style node/.test(e.message));
});

forced.run();

// ---- no handler -------------------------------------------------------------------------------

const none = suite('detectApp() without a handler');

none('detectApp() throws AppShapeError naming the exports found and all three shapes', () => {
  let caught: unknown;
  try {
    detectApp({ config: { port: 1 }, helper: 42 }, FILE);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AppShapeError, 'expected an AppShapeError');
  const message = (caught as Error).message;
  assert.match(message, /^app\.ts has no request handler/); // the user's file by name, not the full path
  assert.match(message, 'found exports "config", "helper"');
  assert.match(message, /fetch handler/);
  assert.match(message, /Node listener/);
  assert.match(message, /WSGI-style `export function wsgi/);
  assert.not.match(message, '\n');
});

none('detectApp() says "no exports" for an empty module', () => {
  assert.throws(() => detectApp({}, FILE), (e: unknown) => e instanceof AppShapeError && e.message.includes('(found no exports)'));
});

none('detectApp() does not take a plain object default export as a handler', () => {
  assert.throws(() => detectApp({ default: { name: 'not an app' } }, FILE), (e: unknown) => e instanceof AppShapeError && e.message.includes('"default"'));
});

none.run();
