// Frame fuzzing for the channel (src/app/channel.ts), shared by test/channel-fuzz.test.ts (a few
// seconds) and bench/fuzz-channel.mjs (as long as asked). The bytes come from the app's side:
// valid frames interleaved over several streams, cut anywhere, then sometimes one bad frame and
// garbage. A seed makes every run reproducible.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { Channel, MAX_PAYLOAD, WINDOW, type VirtualSocket } from '../../src/app/channel.js';

const HEADER = 9;
const [OPEN, DATA, END, CLOSE, CREDIT] = [1, 2, 3, 4, 5];

/** mulberry32: small, seedable, good enough to pick cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function frame(id: number, type: number, payload: Buffer = Buffer.alloc(0), length = payload.length): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt32BE(length >>> 0, 0);
  head.writeUInt32BE(id >>> 0, 4);
  head[8] = type;
  return Buffer.concat([head, payload]);
}

/**
 * A frame the channel must refuse, whatever came before it (streams 1..count were opened; `live`
 * are those not yet ended or closed: a frame for a closed stream is legitimately ignored).
 */
function badFrame(rnd: () => number, count: number, live: number[]): Buffer {
  const id = 1 + Math.floor(rnd() * count);
  switch (Math.floor(rnd() * 8)) {
    case 0: return frame(id, DATA, Buffer.alloc(8), MAX_PAYLOAD + 1 + Math.floor(rnd() * 2 ** 31)); // oversized claim
    case 1: return frame(id, [0, 6, 7, 255][Math.floor(rnd() * 4)] ?? 0); // no such type
    case 2: return frame(id, CREDIT, Buffer.alloc(Math.floor(rnd() * 4))); // a credit too short
    case 3: return frame(count + 1 + Math.floor(rnd() * 1000), DATA, Buffer.alloc(3)); // a stream never opened
    case 4: return frame(id, OPEN); // the app side cannot open streams
    case 5: return frame(0, END); // stream 0
    case 6: // credit for bytes never sent
      if (live.length === 0) return frame(id, 9);
      return frame(live[Math.floor(rnd() * live.length)] ?? 1, CREDIT, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    default: return frame(id, END, Buffer.alloc(1)); // an end with a payload
  }
}

export interface FuzzReport {
  rounds: number;
  broken: number;
  maxBuffered: number;
  heapGrowthMb: number;
}

/** One round; throws with what went wrong. */
async function round(rnd: () => number): Promise<{ bad: boolean; maxBuffered: number }> {
  const input = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
  const channel = new Channel(input as unknown as Socket);
  let brokenCalls = 0;
  channel.onBroken = () => brokenCalls++;
  const count = 1 + Math.floor(rnd() * 6);
  const streams: VirtualSocket[] = [];
  const received: Buffer[][] = [];
  const ended: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const s = channel.open();
    s.on('error', () => {});
    received.push([]);
    ended.push(false);
    s.on('data', (c: Buffer) => received[i]?.push(c));
    s.on('end', () => (ended[i] = true));
    streams.push(s);
  }
  // Valid frames, interleaved: DATA within each stream's window, then maybe END.
  const sent: Buffer[][] = streams.map(() => []);
  const budget = streams.map(() => WINDOW);
  const done = streams.map(() => false);
  const closed = streams.map(() => false);
  const parts: Buffer[] = [];
  const frames = Math.floor(rnd() * 40);
  for (let f = 0; f < frames; f++) {
    const i = Math.floor(rnd() * count);
    if (done[i]) continue;
    const kind = rnd();
    if (kind < 0.06) {
      parts.push(frame(i + 1, END));
      done[i] = true;
    } else if (kind < 0.08) {
      parts.push(frame(i + 1, CLOSE)); // later frames for it would be ignored: none are sent
      done[i] = true;
      closed[i] = true;
    } else if (kind < 0.12) {
      parts.push(frame(i + 1, CREDIT, Buffer.alloc(4))); // credit of 0: allowed
    } else {
      // Mostly small payloads; now and then a stream's whole window in one frame.
      const n = Math.min(budget[i] ?? 0, rnd() < 0.03 ? WINDOW : Math.floor(rnd() ** 3 * 40_000));
      const payload = Buffer.alloc(n, f & 0xff);
      budget[i] = (budget[i] ?? 0) - n;
      sent[i]?.push(payload);
      parts.push(frame(i + 1, DATA, payload));
    }
  }
  const bad = rnd() < 0.5;
  const valid = Buffer.concat(parts);
  let bytes = valid;
  if (bad) {
    const garbage = Buffer.alloc(Math.floor(rnd() * 200));
    for (let k = 0; k < garbage.length; k++) garbage[k] = Math.floor(rnd() * 256);
    bytes = Buffer.concat([valid, badFrame(rnd, count, streams.map((s) => s.id).filter((_, i) => done[i] !== true)), garbage]);
  }
  // Truncated: a valid stream may stop anywhere, mid-header or mid-payload.
  const cut = !bad && rnd() < 0.3 ? Math.floor(rnd() * bytes.length) : bytes.length;
  let maxBuffered = 0;
  for (let at = 0; at < cut; ) {
    const n = Math.max(1, Math.floor(rnd() ** 2 * 70_000));
    input.push(bytes.subarray(at, Math.min(cut, at + n)));
    at += n;
    await new Promise((r) => setImmediate(r));
    maxBuffered = Math.max(maxBuffered, channel.buffered);
    if (channel.buffered > HEADER + MAX_PAYLOAD) throw new Error(`the channel holds ${channel.buffered} bytes of an incomplete frame`);
    for (const s of streams) if (s.readableLength > WINDOW) throw new Error(`stream ${s.id} holds ${s.readableLength} unread bytes`);
  }
  await new Promise((r) => setImmediate(r));
  if (bad) {
    if (brokenCalls !== 1) throw new Error(`a bad frame was seen ${brokenCalls} times (expected once)`);
    if (channel.streams !== 0 || streams.some((s) => !s.destroyed)) throw new Error('a broken channel left streams open');
    // What arrived before the bad frame arrived intact (a prefix: the rest went with the streams).
    streams.forEach((_, i) => {
      const got = Buffer.concat(received[i] ?? []);
      if (!Buffer.concat(sent[i] ?? []).subarray(0, got.length).equals(got)) throw new Error(`stream ${i + 1} got bytes it was not sent`);
    });
  } else {
    if (brokenCalls !== 0) throw new Error('valid frames broke the channel');
    if (cut === bytes.length) {
      streams.forEach((_, i) => {
        if (!Buffer.concat(received[i] ?? []).equals(Buffer.concat(sent[i] ?? []))) throw new Error(`stream ${i + 1} did not get exactly what it was sent`);
        if (closed[i] !== true && ended[i] !== done[i]) throw new Error(`stream ${i + 1} ${done[i] === true ? 'did not end' : 'ended unasked'}`);
      });
    }
  }
  channel.close();
  return { bad, maxBuffered };
}

/** Fuzz for `ms` milliseconds from `seed`; throws an Error naming the seed and round that failed. */
export async function fuzzChannel(seed: number, ms: number): Promise<FuzzReport> {
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();
  let rounds = 0;
  let broken = 0;
  let maxBuffered = 0;
  while (Date.now() - started < ms) {
    const roundSeed = (seed + rounds * 0x9e3779b1) >>> 0;
    try {
      const r = await round(random(roundSeed));
      if (r.bad) broken++;
      maxBuffered = Math.max(maxBuffered, r.maxBuffered);
    } catch (error) {
      throw new Error(`channel fuzz failed (seed ${seed}, round ${rounds}, round seed ${roundSeed}): ${(error as Error).message}`);
    }
    rounds++;
  }
  return { rounds, broken, maxBuffered, heapGrowthMb: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20 };
}
