// A test that cannot run here says so in one line that test/run.js counts. `missing`: a tool,
// engine or browser that is not installed — CI installs every one, so under CI=true run.js
// counts it as a failure (an install bug, not a skip). `machine`: what this machine cannot do
// whatever is installed (no LAN address, not root).
export type SkipKind = 'missing' | 'machine';

/** The line run.js reads: `SKIP[missing]: …` or `SKIP[machine]: …`, on a line of its own. */
export function skip(kind: SkipKind, reason: string): void {
  console.log(`\n  SKIP[${kind}]: ${reason.replace(/\n/g, ' ')}`);
}

