// Test helpers for raw HTTP: parse a raw response, hold a socket open, wait for a condition.
import net from 'node:net';

export interface ParsedRaw {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parse the first response in a raw HTTP/1.1 byte string (latin1), ignoring chunked framing. */
export function parseRaw(raw: string): ParsedRaw {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: m === null ? 0 : Number(m[1]), headers, body };
}

/** A GET request line with `Connection: close`, so the server ends the socket after answering. */
export function rawGet(path: string, headers: Record<string, string> = { Host: '127.0.0.1' }, method = 'GET'): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${method} ${path} HTTP/1.1\r\n${lines}Connection: close\r\n\r\n`;
}

export interface HeldSocket {
  socket: net.Socket;
  /** Everything received so far. */
  data(): string;
  /** Resolves with true when the server closed the socket, false if `ms` passed first. */
  closedWithin(ms: number): Promise<boolean>;
}

/** Open a socket, write `data`, and keep it open so a test can watch what the server does. */
export async function holdSocket(port: number, data: string): Promise<HeldSocket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let out = '';
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  socket.on('data', (c: Buffer) => {
    out += c.toString('latin1');
  });
  socket.on('error', () => {
    // a reset after the server closes is an outcome the test checks via closedWithin()
  });
  socket.write(data);
  return {
    socket,
    data: () => out,
    async closedWithin(ms) {
      if (closed) return true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      const result = await Promise.race([closedPromise.then(() => true), timeout]);
      clearTimeout(timer);
      return result;
    },
  };
}

/** Poll `check` until it returns a value other than undefined, or fail after `ms`. */
export async function waitUntil<T>(check: () => T | undefined | Promise<T | undefined>, ms = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
