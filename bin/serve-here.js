#!/usr/bin/env node
// The executable, and nothing else. No Node flags in the shebang: `env -S` is missing from
// busybox (node:alpine), and with flags there Node parses our arguments (`--env-file`) itself.
import module from 'node:module';

// Node 22.1+ can cache compiled code between runs, which shortens start-up; Node 20 has no such API.
module.enableCompileCache?.();
const argv = process.argv.slice(2);
// With --app, the first app process boots while the rest of serve-here loads (src/app/early.ts).
if (argv.some((a) => a === '--app' || a.startsWith('--app='))) (await import('../dist/src/app/early.js')).spawnEarly(argv);
const { main } = await import('../dist/src/cli.js');
main(argv);
