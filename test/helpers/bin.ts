// Run an executable the way a shell does (the file itself, its shebang picks Node), not
// `node file`: what the user types is what the test runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, delimiter } from 'node:path';

export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** The first match of `re` in stdout or stderr; rejects when the process exits first or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** PATH with this Node first, so `#!/usr/bin/env node` finds the Node running the tests. */
export function pathWithNode(...first: string[]): string {
  return [...first, dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
}

export function spawnExe(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  const child = spawn(file, args, {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', PATH: pathWithNode(), ...opts.env },
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
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      err += String(e);
      resolve(null);
    });
    child.on('close', (code) => {
      notify();
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${re}: stdout=${out} stderr=${err}`)), ms);
        const done = (error: Error | undefined, m?: RegExpMatchArray): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (m !== undefined) resolve(m);
          else reject(error);
        };
        const check = (): void => {
          const m = re.exec(out) ?? re.exec(err);
          if (m !== null) done(undefined, m);
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`exited before ${re}: stdout=${out} stderr=${err}`));
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

/** Run to completion. */
export async function runExe(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnExe(file, args, opts);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
