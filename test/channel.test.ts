// Connections to an app process as streams inside one socket (src/app/channel.ts): HTTP works
// over them unchanged, a reader that stops reading holds back only its own connection, and a
// closed stream or channel is seen on the other side.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, WINDOW, type VirtualSocket } from '../src/app/channel.js';
import { waitUntil } from './helpers/http.js';

interface Pair {
  near: Channel;
  far: Channel;
  farSockets: VirtualSocket[];
  close(): void;
}

/** Two channels over a real Unix socket, as server and app process have. */
async function pair(): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'channel-'));
  const path = join(dir, 's.sock');
  const listener = net.createServer();
  listener.listen(path);
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const nearSocket = net.connect(path);
  const [farSocket] = (await accepted) as [net.Socket];
  const near = new Channel(nearSocket);
  const far = new Channel(farSocket);
  const farSockets: VirtualSocket[] = [];
  far.onOpen = (s) => farSockets.push(s);
  return {
    near,
    far,
    farSockets,
    close() {
      near.close();
      far.close();
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const channel = suite('channel');

channel('HTTP requests and answers over many streams of one socket', async () => {
  const p = await pair();
  const app = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body.length}`));
  });
  p.far.onOpen = (s) => app.emit('connection', s);
  const ask = (i: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = http.request({ method: 'POST', path: `/r${i}`, createConnection: () => p.near.open() }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end('x'.repeat(i * 1000));
    });
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(i)));
  answers.forEach((a, i) => assert.is(a, `POST /r${i} ${i * 1000}`));
  p.close();
});

channel('a reader that stops reading holds back only its own stream, and no more than the window is in flight', async () => {
  const p = await pair();
  const opened = new Promise<void>((r) => (p.far.onOpen = (s) => (p.farSockets.push(s), r())));
  const stalled = p.near.open();
  await opened;
  const farStalled = p.farSockets[0] as VirtualSocket;
  farStalled.pause(); // never reads
  // Write 4 windows' worth: the writer must be held back, not buffered on the far side.
  const chunk = Buffer.alloc(64 * 1024, 1);
  // Written regardless of write()'s answer: what the far side cannot take waits on this side.
  for (let i = 0; i < 16; i++) stalled.write(chunk);
  await new Promise((r) => setTimeout(r, 100)); // let frames cross; the assertion below is about bytes, not time
  assert.ok(farStalled.readableLength <= WINDOW, `far side holds ${farStalled.readableLength} unread bytes`);
  assert.ok(stalled.writableLength > 0, 'the writer should have bytes waiting for credit');
  // Meanwhile another stream still carries data both ways.
  const other = p.near.open();
  const otherFar = new Promise<VirtualSocket>((r) => (p.far.onOpen = (s) => r(s)));
  other.write('ping');
  const farOther = await otherFar;
  const [got] = (await once(farOther, 'data')) as [Buffer];
  assert.is(got.toString(), 'ping');
  farOther.write('pong');
  const [back] = (await once(other, 'data')) as [Buffer];
  assert.is(back.toString(), 'pong');
  // Once the stalled reader reads, everything arrives.
  let total = 0;
  farStalled.on('data', (c: Buffer) => (total += c.length));
  farStalled.resume();
  stalled.end();
  await once(farStalled, 'end');
  assert.is(total, 16 * chunk.length);
  p.close();
});

channel('a destroyed stream closes its peer; a closed channel closes every stream', async () => {
  const p = await pair();
  const opened = new Promise<void>((r) => (p.far.onOpen = (s) => (p.farSockets.push(s), p.farSockets.length === 2 && r())));
  const a = p.near.open();
  const b = p.near.open();
  await opened;
  const [farA, farB] = p.farSockets as [VirtualSocket, VirtualSocket];
  // Readers, as HTTP's are: like a socket, a stream whose peer closed ends, then closes, once read.
  farA.resume();
  b.resume();
  const closedA = once(farA, 'close');
  a.destroy();
  await closedA;
  assert.ok(farA.destroyed);
  assert.not.ok(farB.destroyed);
  // The app process went away: as a socket whose peer closed, without an error of its own (an
  // HTTP client over it says "socket hang up" if its answer was not complete).
  const closedB = once(b, 'close');
  let errorB: Error | undefined;
  b.on('error', (e: Error) => (errorB = e));
  farB.on('error', () => {});
  p.far.close();
  await closedB;
  assert.is(errorB, undefined);
  // A connection opened after that fails at once, the way a refused connect would.
  const late = p.near.open();
  const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
  assert.is(error.code, 'ECONNRESET');
  p.close();
});

channel('a request body of many windows reaches an app that reads it slowly (credit is given back for every read)', async () => {
  const p = await pair();
  const SIZE = 8 * WINDOW;
  const app = http.createServer((req, res) => {
    let n = 0;
    // A slow reader: reads for a moment now and then.
    req.pause();
    const reading = setInterval(() => {
      req.resume();
      setTimeout(() => req.pause(), 2);
    }, 20);
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      clearInterval(reading);
      res.end(String(n));
    });
  });
  p.far.onOpen = (s) => app.emit('connection', s);
  const answer = new Promise<string>((resolve, reject) => {
    const req = http.request({ method: 'POST', path: '/', createConnection: () => p.near.open() }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(SIZE, 2));
  });
  const timeout = new Promise<string>((r) => setTimeout(() => r('stuck'), 10_000).unref());
  assert.is(await Promise.race([answer, timeout]), String(SIZE));
  p.close();
});

channel('an answer of many windows reaches a client that reads it slowly', async () => {
  const p = await pair();
  const SIZE = 8 * WINDOW;
  const app = http.createServer((_req, res) => res.end(Buffer.alloc(SIZE, 1)));
  p.far.onOpen = (s) => app.emit('connection', s);
  const answer = new Promise<number>((resolve, reject) => {
    const req = http.request({ path: '/', createConnection: () => p.near.open() }, (res) => {
      let n = 0;
      res.pause();
      const reading = setInterval(() => {
        res.resume();
        setTimeout(() => res.pause(), 2);
      }, 20);
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => {
        clearInterval(reading);
        resolve(n);
      });
    });
    req.on('error', reject);
    req.end();
  });
  const timeout = new Promise<string>((r) => setTimeout(() => r('stuck'), 10_000).unref());
  assert.is(await Promise.race([answer, timeout]), SIZE);
  p.close();
});

channel('bytes a stream wrote before it was destroyed still reach a reader that was not reading (as on a socket)', async () => {
  const p = await pair();
  const opened = new Promise<VirtualSocket>((r) => (p.far.onOpen = (s) => r(s)));
  const near = p.near.open();
  near.pause();
  const far = await opened;
  far.write(Buffer.alloc(100 * 1024, 1));
  far.destroy(); // an app (or its framework) may destroy its connection right after its answer
  await once(far, 'close');
  await new Promise((r) => setTimeout(r, 100)); // everything crossed while the near side was not reading
  let total = 0;
  near.on('data', (c: Buffer) => (total += c.length));
  near.on('error', () => {});
  const closed = near.destroyed ? Promise.resolve() : once(near, 'close');
  near.resume();
  await closed;
  assert.is(total, 100 * 1024);
  p.close();
});

channel('a write waiting for credit when its stream is destroyed: its callback is called once, with an error', async () => {
  const p = await pair();
  const opened = new Promise<VirtualSocket>((r) => (p.far.onOpen = (s) => r(s)));
  const near = p.near.open();
  const far = await opened;
  far.pause();
  const calls: (Error | null | undefined)[] = [];
  near.write(Buffer.alloc(2 * WINDOW, 1), (error) => calls.push(error));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(calls.length, 0, 'the write should wait for credit');
  near.destroy();
  await once(near, 'close');
  await new Promise((r) => setTimeout(r, 50));
  assert.is(calls.length, 1);
  assert.ok(calls[0] instanceof Error);
  assert.is(p.near.streams, 0);
  // Credit that arrives for it now is dropped, not written.
  far.resume();
  await new Promise((r) => setTimeout(r, 50));
  assert.is(calls.length, 1);
  p.close();
});

channel("an app's res.setTimeout() fires on an idle stream, as on a socket", async () => {
  const p = await pair();
  const app = http.createServer((_req, res) => {
    res.setTimeout(100, () => res.end('timed out'));
  });
  p.far.onOpen = (s) => app.emit('connection', s);
  const answer = new Promise<string>((resolve, reject) => {
    const req = http.request({ path: '/', createConnection: () => p.near.open() }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  const timeout = new Promise<string>((r) => setTimeout(() => r('no timeout event'), 3000).unref());
  assert.is(await Promise.race([answer, timeout]), 'timed out');
  p.close();
});

channel('the other side going away leaves an answer that fully arrived readable to its end (as a socket peer closing does)', async () => {
  const p = await pair();
  const SIZE = 200 * 1024;
  const app = http.createServer((_req, res) => res.end(Buffer.alloc(SIZE, 3)));
  p.far.onOpen = (s) => app.emit('connection', s);
  let stream: VirtualSocket | undefined;
  let response: http.IncomingMessage | undefined;
  let arrived!: () => void;
  const all = new Promise<void>((r) => (arrived = r));
  const got = new Promise<number>((resolve, reject) => {
    const req = http.request({ path: '/', createConnection: () => (stream = p.near.open()) }, (res) => {
      response = res;
      res.pause(); // a slow client: nothing read until the app process is gone
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
      void all.then(() => res.resume());
    });
    req.on('error', reject);
    req.end();
  });
  // Once the whole answer waits on the near side (in the stream or the client's response), the app process goes.
  await waitUntil(() => ((stream?.readableLength ?? 0) + (response?.readableLength ?? 0) >= SIZE ? true : undefined), 5000, 'the answer across');
  p.far.close();
  arrived();
  assert.is(await got, SIZE);
  p.close();
});

channel('frames cut into pieces anywhere (inside a header, inside a payload) arrive whole', async () => {
  // The near side's bytes are captured, then fed to the far side 1 and 7 bytes at a time.
  const written: Buffer[] = [];
  const sink = new Duplex({ read() {}, write(chunk: Buffer, _e, cb) { written.push(chunk); cb(); } });
  const near = new Channel(sink as unknown as net.Socket);
  const stream = near.open();
  const body = Buffer.alloc(3000, 7);
  stream.write(body);
  stream.end();
  await new Promise((r) => setImmediate(r)); // the channel writes once per event-loop turn
  const bytes = Buffer.concat(written);
  for (const piece of [1, 7]) {
    const source = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    const far = new Channel(source as unknown as net.Socket);
    const got = new Promise<Buffer>((resolve) => {
      far.onOpen = (s) => {
        const parts: Buffer[] = [];
        s.on('data', (c: Buffer) => parts.push(c));
        s.on('end', () => resolve(Buffer.concat(parts)));
      };
    });
    for (let i = 0; i < bytes.length; i += piece) source.push(bytes.subarray(i, i + piece));
    assert.equal(await got, body, `in pieces of ${piece}`);
  }
});

channel.run();
