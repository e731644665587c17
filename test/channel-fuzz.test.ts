// Random, truncated, oversized and interleaved frames from the app's side of a channel
// (test/helpers/fuzz-channel.ts): the server survives, other channels' streams are untouched,
// memory stays bounded. A few seconds here; `node bench/fuzz-channel.mjs --seconds 60` runs longer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Channel } from '../src/app/channel.js';
import { fuzzChannel } from './helpers/fuzz-channel.js';

const fuzz = suite('channel fuzz');

fuzz('random frames from the app side never throw, never grow memory, never touch another channel', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
  // A bystander: HTTP over a real channel pair, running all the while.
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const nearSocket = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const [farSocket] = (await accepted) as [net.Socket];
  const near = new Channel(nearSocket);
  const far = new Channel(farSocket);
  const app = http.createServer((req, res) => res.end(`answer to ${req.url ?? ''}`));
  far.onOpen = (s) => app.emit('connection', s);
  let asked = 0;
  let wrong = 0;
  let fuzzing = true;
  const bystander = (async () => {
    while (fuzzing) {
      const n = asked++;
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.get({ path: `/${n}`, createConnection: () => near.open() }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
      });
      if (text !== `answer to /${n}`) wrong++;
    }
  })();
  try {
    const report = await fuzzChannel(seed, Number(process.env.FUZZ_MS ?? 3000));
    assert.ok(report.rounds > 50, `only ${report.rounds} rounds`);
    assert.ok(report.broken > 0 && report.broken < report.rounds, 'both kinds of round ran');
    assert.ok(report.heapGrowthMb < 64, `heap grew by ${report.heapGrowthMb.toFixed(1)} MB`);
  } catch (error) {
    console.log(`channel fuzz seed: ${seed} (rerun with FUZZ_SEED=${seed})`);
    throw error;
  } finally {
    fuzzing = false;
    await bystander;
    near.close();
    far.close();
    listener.close();
  }
  assert.ok(asked > 10, `the bystander asked only ${asked} times`);
  assert.is(wrong, 0);
});

fuzz.run();
