// The CLI as a developer sees it: stdout and stderr in one pipe (the order of lines is the
// order on the terminal), and a plain GET with headers.
import http from 'node:http';
import { BIN } from './server.js';
import { spawnExe, type Proc } from './bin.js';

const WAIT_MS = 15_000;

/** The CLI with stderr into stdout (one pipe): the order of lines is the order the user sees. */
export function serveMerged(dir: string, args: string[], env: Record<string, string> = {}): Proc {
  return spawnExe('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, BIN, '--port', '0', ...args, dir], { cwd: dir, env });
}

export interface Got {
  status: number;
  type: string;
  text: string;
}

export function get(port: number, path: string, headers: Record<string, string> = {}, ms = WAIT_MS): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(ms, () => req.destroy(new Error(`no answer to ${path} within ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

