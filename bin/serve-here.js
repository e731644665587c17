#!/usr/bin/env node
// The executable, and nothing else. No Node flags in the shebang: `env -S` is missing from
// busybox (node:alpine), and with flags there Node parses our arguments (`--env-file`) itself.
import module from 'node:module';

// Node 22.1+ can cache compiled code between runs, which shortens start-up; Node 20 has no such API.
module.enableCompileCache?.();
const { main } = await import('../dist/src/cli.js');
main(process.argv.slice(2));
