#!/usr/bin/env node
// The channel frame fuzzer (test/helpers/fuzz-channel.ts) for as long as asked, after `npx tsc`:
//   node bench/fuzz-channel.mjs --seconds 60 [--seed N]
// Seeded and reproducible: a failure prints the seed and round to rerun.
import { parseArgs } from 'node:util';
import { fuzzChannel } from '../dist/test/helpers/fuzz-channel.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } } });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed);
const seconds = Number(values.seconds);
console.log(`channel fuzz: seed ${seed}, ${seconds} s`);
try {
  const r = await fuzzChannel(seed, seconds * 1000);
  console.log(`${r.rounds} rounds (${r.broken} with a bad frame), at most ${r.maxBuffered} bytes of an incomplete frame held, heap ${r.heapGrowthMb >= 0 ? '+' : ''}${r.heapGrowthMb.toFixed(1)} MB`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  console.error(`rerun: node bench/fuzz-channel.mjs --seconds ${seconds} --seed ${seed}`);
  process.exitCode = 1;
}
