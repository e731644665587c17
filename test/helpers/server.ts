// Test helpers: temp folders, servers on port 0, raw requests, CLI child processes.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import net from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createServer, type ServerOptions, type ServeHere } from '../../src/server.js';
import { createLogger, type Logger } from '../../src/log.js';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'serve-here.js');

/** Make a temp folder holding `files` (path → content; a path ending in "/" makes a folder). */
export async function makeTree(files: Record<string, string | Buffer> = {}): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'serve-here-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(base, path);
    if (path.endsWith('/')) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  return base;
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** A writable that keeps what it was given, for capturing log output. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export interface Running {
  serveHere: ServeHere;
  url: URL;
  port: number;
  out: Capture;
  err: Capture;
  logger: Logger;
  close(): Promise<void>;
}

/** Start a server on 127.0.0.1 port 0 with a captured, colourless logger. */
export async function startServer(opts: ServerOptions): Promise<Running> {
  const out = new Capture();
  const err = new Capture();
  const logger = opts.logger ?? createLogger({ out, err, color: false });
  const serveHere = createServer({ ...opts, logger });
  const address = await serveHere.listen({ port: 0, host: '127.0.0.1' });
  return {
    serveHere,
    url: new URL(`http://127.0.0.1:${address.port}/`),
    port: address.port,
    out,
    err,
    logger,
    close: () => serveHere.close(500),
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A request with a literal path (no URL normalisation), via node:http. */
export function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Send raw bytes on a TCP socket (or TLS, not verified) and collect everything until the server closes or `ms` pass. */
export function rawRequest(port: number, data: string | Buffer, ms = 2000, opts: { tls?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = opts.tls === true ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, ms);
    socket.on('data', (c: Buffer) => {
      out += c.toString('latin1');
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (out !== '') resolve(out);
      else reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(data);
  });
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolve with the first match of `re` in stdout (or stderr), or reject after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawn `node bin/serve-here.js …args` with NO_COLOR and a pipe for stdout (so not a TTY). */
export function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of waiters) w();
  };
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    notify();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    notify();
    resolve(code);
  }));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out) ?? re.exec(err);
          if (m !== null) {
            cleanup();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before ${re}: stdout=${out} stderr=${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re}: stdout=${out} stderr=${err}`));
        }, ms);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Run the CLI to completion; resolves with exit code and output. */
export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, opts);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
