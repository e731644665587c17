// One behaviour table for what node:http relies on in a socket, run against a real net.Socket
// pair and against a VirtualSocket pair (src/app/virtual-socket.ts, inside a Channel): the same
// scenario must give the same observable outcome on both.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { Channel, type VirtualSocket } from '../src/app/channel.js';

/** What both kinds of socket offer (net.Socket's API as node:http uses it). */
type Sock = Duplex & {
  setTimeout(ms: number, cb?: () => void): Sock;
  setNoDelay(on?: boolean): Sock;
  setKeepAlive(on?: boolean, delay?: number): Sock;
  readonly bytesWritten: number;
  readonly bytesRead: number;
};

interface Pair {
  a: Sock;
  b: Sock;
  done(): void;
}

async function tcpPair(): Promise<{ a: net.Socket; b: net.Socket; listener: net.Server }> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const a = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const [b] = (await accepted) as [net.Socket];
  await new Promise<void>((r) => (a.connecting ? a.once('connect', () => r()) : r()));
  return { a, b, listener };
}

const kinds: Record<string, () => Promise<Pair>> = {
  'net.Socket': async () => {
    const { a, b, listener } = await tcpPair();
    return { a: a as unknown as Sock, b: b as unknown as Sock, done: () => (a.destroy(), b.destroy(), listener.close()) };
  },
  VirtualSocket: async () => {
    const { a: ta, b: tb, listener } = await tcpPair();
    const near = new Channel(ta);
    const far = new Channel(tb);
    const opened = new Promise<VirtualSocket>((r) => (far.onOpen = r));
    const a = near.open();
    const b = await opened;
    return { a: a as unknown as Sock, b: b as unknown as Sock, done: () => (near.close(), far.close(), listener.close()) };
  },
};

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Record these events of `s` into `log`, prefixed. */
function watch(s: Sock, name: string, log: string[], events = ['end', 'finish', 'close', 'error', 'timeout']): void {
  for (const e of events) s.on(e, (x?: unknown) => log.push(`${name}:${e}${e === 'error' ? `(${(x as NodeJS.ErrnoException).code ?? ''})` : ''}`));
}

/** Each scenario returns what it observed; both kinds must observe the same. */
const scenarios: Record<string, (p: Pair) => Promise<unknown>> = {
  'end: the peer reads the data, then end; then it ends too (no half-open): end → finish → close on both sides': async ({ a, b }) => {
    const log: string[] = [];
    watch(a, 'a', log);
    watch(b, 'b', log);
    let got = '';
    b.on('data', (c: Buffer) => (got += c.toString()));
    a.resume();
    a.end('hello');
    await Promise.all([once(a, 'close'), once(b, 'close')]);
    return { got, a: log.filter((l) => l.startsWith('a:')), b: log.filter((l) => l.startsWith('b:')) };
  },
  'destroy with pending writes: the write callback gets an error, the destroyer closes without one, the peer closes': async ({ a, b }) => {
    b.on('error', () => {});
    b.resume();
    b.pause(); // the peer does not read: writes stay pending
    const chunk = Buffer.alloc(1024 * 1024);
    let pending: Promise<string> | undefined;
    for (let i = 0; i < 256 && pending === undefined; i++) {
      let cbError = 'not called';
      const p = new Promise<string>((r) => a.write(chunk, (e) => r((cbError = e == null ? 'ok' : 'error'))));
      if (a.writableNeedDrain) pending = p;
      void cbError;
    }
    const log: string[] = [];
    watch(a, 'a', log);
    a.destroy();
    const [cb] = await Promise.all([pending, once(a, 'close'), once(b, 'close')]);
    return { pendingCallback: cb, a: log, bDestroyed: b.destroyed };
  },
  'pause/resume and back-pressure: write() says false, drain comes once the peer reads, every byte arrives': async ({ a, b }) => {
    b.pause();
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let full = false;
    for (let i = 0; i < 2048 && !full; i++) {
      full = !a.write(chunk);
      sent += chunk.length;
    }
    await tick(20);
    let got = 0;
    b.on('data', (c: Buffer) => (got += c.length));
    const drained = once(a, 'drain').then(() => true);
    b.resume();
    const drain = await drained;
    a.end();
    await once(b, 'end');
    return { full, drain, all: got === sent, bytesRead: b.bytesRead === sent, bytesWritten: a.bytesWritten === sent };
  },
  'setTimeout: timeout after idle, the socket stays open; 0 switches it off; the callback is a timeout listener': async ({ a }) => {
    const log: string[] = [];
    watch(a, 'a', log, ['timeout', 'close']);
    let called = 0;
    const returned = a.setTimeout(40, () => called++) === a;
    await once(a, 'timeout');
    const open = !a.destroyed;
    a.setTimeout(0);
    await tick(120);
    return { returned, called, open, log };
  },
  'setNoDelay and setKeepAlive return the socket': async ({ a }) => ({ noDelay: a.setNoDelay(true) === a, keepAlive: a.setKeepAlive(true, 1000) === a }),
  'cork/uncork: nothing leaves while corked, everything after uncork': async ({ a, b }) => {
    let got = '';
    b.on('data', (c: Buffer) => (got += c.toString()));
    a.cork();
    a.write('a');
    a.write('b');
    await tick(50);
    const whileCorked = got;
    a.uncork();
    a.end('c');
    await once(b, 'end');
    return { whileCorked, after: got };
  },
  'write after end: an error event and an error to the callback, ERR_STREAM_WRITE_AFTER_END': async ({ a }) => {
    const errors: string[] = [];
    a.on('error', (e: NodeJS.ErrnoException) => errors.push(`event ${e.code ?? ''}`));
    a.end();
    const cb = await new Promise<string>((r) => a.write('x', (e) => r(`callback ${(e as NodeJS.ErrnoException | null | undefined)?.code ?? 'none'}`)));
    await tick(10);
    return { cb, errors };
  },
  'errors after close: a write to a destroyed socket fails in its callback, no error event': async ({ a }) => {
    const errors: string[] = [];
    a.on('error', (e: NodeJS.ErrnoException) => errors.push(`event ${e.code ?? ''}`));
    a.destroy();
    await once(a, 'close');
    const cb = await new Promise<string>((r) => a.write('x', (e) => r(`callback ${(e as NodeJS.ErrnoException | null | undefined)?.code ?? 'none'}`)));
    a.destroy(new Error('again')); // a second destroy with an error: ignored
    await tick(10);
    return { cb, errors };
  },
  'the peer destroys: the other side gets end, then close, and its writes then fail': async ({ a, b }) => {
    const log: string[] = [];
    watch(a, 'a', log, ['end', 'close']);
    a.on('error', () => {});
    a.resume();
    b.destroy();
    await once(a, 'close');
    const failed = await new Promise<boolean>((r) => (a.write('x', (e) => r(e != null)), void 0));
    return { log, failed };
  },
  'bytesWritten/bytesRead count payload bytes both ways': async ({ a, b }) => {
    b.resume();
    a.resume();
    a.write(Buffer.alloc(1000));
    b.write(Buffer.alloc(300));
    a.end();
    await Promise.all([once(a, 'close'), once(b, 'close')]);
    return { aWritten: a.bytesWritten, aRead: a.bytesRead, bWritten: b.bytesWritten, bRead: b.bytesRead };
  },
};

const table = suite('socket behaviour table: net.Socket and VirtualSocket');

for (const [name, scenario] of Object.entries(scenarios)) {
  table(name, async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [kind, make] of Object.entries(kinds)) {
      const pair = await make();
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<string>((r) => (timer = setTimeout(() => r('no outcome within 5 s'), 5000)));
      try {
        // A copy as it is now: pair.done() below may still add events to what was returned.
        outcomes[kind] = JSON.parse(JSON.stringify(await Promise.race([scenario(pair), stuck]))) as unknown;
      } finally {
        clearTimeout(timer);
        pair.done();
      }
    }
    assert.equal(outcomes.VirtualSocket, outcomes['net.Socket']);
  });
}

table.run();
