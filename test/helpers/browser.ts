// Headless Chromium (Debian's package) driven over the DevTools protocol with
// chrome-remote-interface: open pages, evaluate expressions, wait for conditions.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CDP from 'chrome-remote-interface';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

export interface Page {
  /** Evaluate an expression in the page; the value is returned by value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Poll an expression until it is truthy (or throw after `ms`). */
  waitFor<T>(expression: string, ms?: number, what?: string): Promise<T>;
  /** Viewport size and colour scheme (phone sizes get a touch, mobile viewport). */
  emulate(view: View): Promise<void>;
  /** Navigate (and wait for the load event, at most `ms`). */
  goto(url: string, ms?: number): Promise<void>;
  /** Evaluate an expression that navigates (a form submit, a click), then wait for the load event. */
  navigateBy(expression: string, ms?: number): Promise<void>;
  /** A PNG of the viewport (or the whole page with `full`). */
  screenshot(path: string, full?: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface View {
  width: number;
  height: number;
  dark: boolean;
  mobile?: boolean;
}

export interface Browser {
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** Start Chromium headless on a free debugging port (flags as the machine notes require). */
export async function launchBrowser(): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error('no Chromium found');
  const profile = await mkdtemp(join(tmpdir(), 'serve-here-chromium-'));
  const child: ChildProcess = spawn(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    // Its own process group, so closing ends every Chromium helper process with it.
    { stdio: 'ignore', detached: true },
  );
  const portFile = join(profile, 'DevToolsActivePort');
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (port === 0) {
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      throw new Error('Chromium did not start within 20 s');
    }
    const text = await readFile(portFile, 'utf8').catch(() => '');
    port = Number(text.split('\n')[0] ?? 0) || 0;
    if (port === 0) await new Promise((r) => setTimeout(r, 50));
  }
  const opened = new Set<CDP.Client>();
  return {
    async open(url) {
      const target = await CDP.New({ port, url: 'about:blank' });
      const client = await CDP({ port, target: target.id });
      opened.add(client);
      await client.Page.enable();
      await client.Runtime.enable();
      await client.Page.navigate({ url });
      await client.Page.loadEventFired();
      const evaluate = async <T>(expression: string): Promise<T> => {
        const r = await withTimeout(client.Runtime.evaluate({ expression, returnByValue: true, awaitPromise: true }), 10_000, expression);
        if (r.exceptionDetails !== undefined) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value as T;
      };
      return {
        evaluate,
        async waitFor<T>(expression: string, ms = 10_000, what = expression): Promise<T> {
          const until = Date.now() + ms;
          for (;;) {
            const value = await evaluate<T>(expression).catch(() => undefined);
            if (value) return value;
            if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        async emulate(view) {
          const mobile = view.mobile ?? view.width < 600;
          await client.Emulation.setDeviceMetricsOverride({ width: view.width, height: view.height, deviceScaleFactor: mobile ? 2 : 1, mobile });
          await client.Emulation.setEmulatedMedia({ features: [{ name: 'prefers-color-scheme', value: view.dark ? 'dark' : 'light' }] });
        },
        async goto(to, ms = 10_000) {
          const loaded = client.Page.loadEventFired();
          await withTimeout(client.Page.navigate({ url: to }).then(() => loaded), ms, `loading ${to}`);
        },
        async navigateBy(expression, ms = 10_000) {
          const loaded = client.Page.loadEventFired();
          await withTimeout(evaluate(expression).then(() => loaded), ms, `the navigation by ${expression}`);
        },
        async screenshot(path, full = false) {
          const shot = await client.Page.captureScreenshot({ format: 'png', captureBeyondViewport: full });
          await writeFile(path, Buffer.from(shot.data, 'base64'));
        },
        async close() {
          opened.delete(client);
          await client.close().catch(() => {});
          await CDP.Close({ port, id: target.id }).catch(() => {});
        },
      };
    },
    async close() {
      for (const c of opened) await c.close().catch(() => {});
      const exited = new Promise((r) => child.once('exit', r));
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      await exited;
      await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch(() => {});
    },
  };
}

/** A DevTools call that never answers fails the test instead of hanging it (uvu has no timeout). */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
