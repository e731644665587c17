// Run an ES module script in a fresh node and read one marked line of what it prints: for tests
// that look inside a serve-here process (its heap, the modules it loaded).
import { execFile } from 'node:child_process';

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
