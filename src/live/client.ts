// Browser live reload, browser side: the page script and the shared worker it talks to, served
// by serve-here under LIVE_BASE (external scripts, so a `script-src 'self'` CSP allows them).

export { LIVE_BASE, LIVE_EVENTS_PATH, LIVE_SCRIPT_PATH, LIVE_WORKER_PATH } from './paths.js';
import { LIVE_BASE, LIVE_EVENTS_PATH, LIVE_SCRIPT_PATH, LIVE_WORKER_PATH } from './paths.js';

/** The image types the watcher refreshes in place (folder-watch.ts's IMAGE), as page-script source. */
const IMAGE_RE = String(/\.(png|jpe?g|gif|webp|avif|svg|ico|bmp)$/i);

/**
 * The shared worker: one EventSource per browser, whatever the number of tabs (HTTP/1.1 allows
 * six connections per origin; a seventh tab with its own stream would hang). It remembers the
 * first server id it saw: a different one after a reconnect means a restart, so pages reload.
 */
export const LIVE_WORKER = `'use strict';
const ports = new Set();
let seen = null;
const post = (msg) => { for (const p of ports) p.postMessage(msg); };
const events = new EventSource(${JSON.stringify(LIVE_EVENTS_PATH)});
events.addEventListener('hello', (e) => {
  const id = JSON.parse(e.data).id;
  if (seen !== null && seen !== id) post({ type: 'reload' });
  seen = id;
  post({ type: 'ready' });
});
events.addEventListener('change', (e) => post(JSON.parse(e.data)));
onconnect = (e) => {
  const port = e.ports[0];
  ports.add(port);
  if (seen !== null) port.postMessage({ type: 'ready' });
  port.onmessage = (m) => { if (m.data === 'bye') ports.delete(port); };
  port.start();
};
`;

/**
 * The page script: reload, swap stylesheets in place (the new sheet is loaded before the old one
 * is removed, so no frame is drawn without styles), or refresh images. New files (an upload) are
 * followed only when this page uses one: its own path (or its folder's index.html), an element's
 * src or stylesheet (one that got a 404 before the file existed included), or a resource the
 * browser lists for the page (Resource Timing).
 */
export const LIVE_SCRIPT = `'use strict';
(() => {
  if (window.__serveHereLive) return;
  window.__serveHereLive = true;
  const path = (url) => { try { const u = new URL(url, location.href); return u.origin === location.origin ? decodeURIComponent(u.pathname) : null; } catch { return null; } };
  const bust = (url) => { const u = new URL(url, location.href); u.searchParams.set('serve-here', String(Date.now())); return u.href; };
  const swapCss = (paths) => {
    const links = [...document.querySelectorAll('link[rel~="stylesheet"][href]')].filter((l) => path(l.href) !== null);
    if (links.length === 0) return location.reload();
    const direct = links.filter((l) => paths.includes(path(l.href)));
    // A changed file no <link> names was @imported by one of them: refresh them all.
    for (const old of direct.length > 0 ? direct : links) {
      const next = old.cloneNode();
      next.href = bust(old.href);
      const done = () => old.remove();
      next.addEventListener('load', done, { once: true });
      next.addEventListener('error', done, { once: true });
      old.after(next);
    }
  };
  const refreshImages = (paths) => {
    for (const img of document.images) if (paths.includes(path(img.currentSrc || img.src))) img.src = bust(img.src);
  };
  const used = (paths) => {
    const here = path(location.href);
    const mine = new Set([here, here.endsWith('/') ? here + 'index.html' : here]);
    for (const el of document.querySelectorAll('link[href],script[src],img[src],source[src],video[src],audio[src],iframe[src],embed[src],object[data]')) mine.add(path(el.href || el.currentSrc || el.src || el.data));
    for (const e of performance.getEntriesByType('resource')) mine.add(path(e.name));
    return paths.filter((p) => mine.has(p));
  };
  const onMessage = (msg) => {
    // The stream is open: saves from now on reach this page (tests wait for this).
    if (msg.type === 'ready') window.__serveHereLiveReady = true;
    else if (msg.type === 'css') swapCss(msg.paths);
    else if (msg.type === 'image') refreshImages(msg.paths);
    else if (msg.type === 'added') {
      const mine = used(msg.paths);
      if (mine.length === 0) return;
      if (mine.every((p) => p.toLowerCase().endsWith('.css'))) swapCss(mine);
      else if (mine.every((p) => ${IMAGE_RE}.test(p))) refreshImages(mine);
      else location.reload();
    } else location.reload();
  };
  if (typeof SharedWorker === 'function') {
    const worker = new SharedWorker(${JSON.stringify(LIVE_WORKER_PATH)}, { name: 'serve-here-live' });
    worker.port.onmessage = (e) => onMessage(e.data);
    worker.port.start();
    addEventListener('pagehide', () => worker.port.postMessage('bye'));
  } else {
    let seen = null;
    const events = new EventSource(${JSON.stringify(LIVE_EVENTS_PATH)});
    events.addEventListener('hello', (e) => { const id = JSON.parse(e.data).id; if (seen !== null && seen !== id) location.reload(); seen = id; window.__serveHereLiveReady = true; });
    events.addEventListener('change', (e) => onMessage(JSON.parse(e.data)));
  }
})();
`;
