// Loaded into every serve-here process of a soak (NODE_OPTIONS=--import, bench only): every
// SOAK_PROBE_MS it appends this process's memory to SOAK_PROBE_FILE, and with --expose-gc also
// heapUsed right after a full GC — what is still reachable, the number that tells a leak from a
// heap that is merely sized up under load.
import { appendFileSync } from 'node:fs';

const file = process.env.SOAK_PROBE_FILE;
const every = Number(process.env.SOAK_PROBE_MS ?? 10_000);
if (file !== undefined) {
  const sample = () => {
    const m = process.memoryUsage();
    let afterGc;
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      afterGc = process.memoryUsage().heapUsed;
    }
    const line = { pid: process.pid, t: Date.now(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, afterGc, external: m.external, arrayBuffers: m.arrayBuffers };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {}
  };
  setInterval(sample, every).unref();
}
