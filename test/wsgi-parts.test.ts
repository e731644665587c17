// The pieces of the WSGI adapter where bytes split in awkward places: wsgi.input over a body that
// arrives in small chunks (lines and reads across chunk boundaries), and PATH_INFO's decoding of
// every kind of invalid UTF-8. End to end, in both modes: test/wsgi-validate.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { WsgiInput } from '../src/app/wsgi-input.js';
import { decodePathInfo } from '../src/app/wsgi-environ.js';

/** A body that arrives in `chunks`, one per event-loop turn, then ends. */
function body(chunks: string[]): PassThrough {
  const stream = new PassThrough();
  void (async () => {
    for (const chunk of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      stream.write(Buffer.from(chunk, 'latin1'));
    }
    stream.end();
  })();
  return stream;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const input = suite('WsgiInput: bytes across chunk boundaries');

input('readline() joins a line split over chunks, and finds the newline in a later chunk', async () => {
  const file = new WsgiInput(body(['ab', 'c', 'd\ne', 'f\n', '\n', 'tail']));
  const lines: string[] = [];
  for await (const line of file) lines.push(text(line));
  assert.equal(lines, ['abcd\n', 'ef\n', '\n', 'tail']);
  assert.is((await file.read()).length, 0);
});

input('readline(limit) stops at the limit inside a chunk and across chunks', async () => {
  const file = new WsgiInput(body(['abc', 'def\ng']));
  assert.equal([text(await file.readline(2)), text(await file.readline(3)), text(await file.readline(100)), text(await file.readline(0)), text(await file.readline())], ['ab', 'cde', 'f\n', '', 'g']);
});

input('read(n) spans chunks and returns exactly n bytes until the end', async () => {
  const file = new WsgiInput(body(['12', '345', '6', '789']));
  assert.equal([text(await file.read(4)), text(await file.read(4)), text(await file.read(4)), text(await file.read(4))], ['1234', '5678', '9', '']);
});

input('readlines(hint) stops once the lines reach hint bytes; 0 and negative mean no hint', async () => {
  const file = new WsgiInput(body(['a\nbb\n', 'ccc\nd']));
  assert.equal((await file.readlines(3)).map(text), ['a\n', 'bb\n']);
  assert.equal((await file.readlines(-1)).map(text), ['ccc\n', 'd']);
  assert.equal(await file.readlines(0), []);
});

input('a size that is not a number is a TypeError, as Python raises', async () => {
  const file = new WsgiInput(body(['x']));
  await file.read('3' as unknown as number).then(
    () => assert.unreachable('read("3") resolved'),
    (error: unknown) => assert.instance(error, TypeError),
  );
  assert.is(text(await file.read()), 'x', 'the failed call took nothing');
});

input('a body that fails makes the pending and later calls reject', async () => {
  const stream = new PassThrough();
  const file = new WsgiInput(stream);
  stream.write('par');
  const pending = file.read(10);
  setImmediate(() => stream.destroy(new Error('connection reset')));
  await pending.then(
    () => assert.unreachable('read resolved'),
    (error: unknown) => assert.match(String(error), 'connection reset'),
  );
  await file.readline().then(
    () => assert.unreachable('readline resolved'),
    (error: unknown) => assert.match(String(error), 'connection reset'),
  );
});

input.run();

const path = suite('decodePathInfo: UTF-8 escape by escape, invalid bytes kept as written');

for (const [raw, decoded, why] of [
  ['/plain', '/plain', 'no escapes'],
  ['/a%20b/%FF', '/a b/%FF', 'one bad escape spoils nothing else'],
  ['/caf%C3%A9%ff', '/café%ff', 'a bad byte right after a good sequence, in its own case'],
  ['/%C0%AF', '/%C0%AF', 'overlong "/"'],
  ['/%E0%80%AF', '/%E0%80%AF', 'overlong three-byte'],
  ['/%ED%A0%80', '/%ED%A0%80', 'a UTF-16 surrogate'],
  ['/%F4%90%80%80', '/%F4%90%80%80', 'past U+10FFFF'],
  ['/%E2%82/%AC', '/%E2%82/%AC', 'a sequence cut by a literal character'],
  ['/%E2%82%AC%E2%82', '/€%E2%82', 'a sequence cut by the end of the run'],
  ['/%80%C3%A9', '/%80é', 'a stray continuation byte before a good sequence'],
  ['/%F0%9F%98%80', '/😀', 'four bytes'],
  ['/x%2Fy%00', '/x/y\u0000', '%2F and %00 decode, as CGI does'],
  ['/%zz%2', '/%zz%2', 'not an escape'],
] as const) {
  path(`${raw} → ${JSON.stringify(decoded)} (${why})`, () => {
    assert.is(decodePathInfo(raw), decoded);
  });
}

path.run();
