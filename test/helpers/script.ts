// Run an ES module script in a fresh node and read one marked line of what it prints: for tests
// that look inside a serve-here process (its heap, the modules it loaded).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/**
 * Script text that starts serve-here's CLI in the script's own process with `args` and leaves
 * `port` (read from the banner) and `write` (the real stdout) defined for the rest of the script.
 */
export function startCli(args: string[]): string {
  return `
    let banner = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk) => ((banner += chunk), true);
    const { main } = await import(${JSON.stringify(CLI)});
    await main(${JSON.stringify(args)});
    process.stdout.write = write;
    const port = Number(/127\\.0\\.0\\.1:(\\d+)/.exec(banner)?.[1]);
  `;
}

/** Run `script` (ESM) in a new node; resolve with what follows `MARKER ` on its stdout. */
export function scriptResult(script: string, marker: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, env }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith(`${marker} `));
      if (line === undefined) return reject(new Error(`no ${marker} line (${error?.message ?? 'exit 0'}): ${stdout}${stderr}`));
      resolve(line.slice(marker.length + 1));
    });
  });
}
