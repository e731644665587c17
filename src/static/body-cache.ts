// Whole bodies of small files kept in memory, each trusted only while its file is unchanged.
import type { Stats } from 'node:fs';
import type { Encoding } from './compress.js';
import { openChecked, readAll } from './open-file.js';

/** Files up to this size are read with one read (no stream machinery) and may be cached. */
export const SMALL_FILE = 256 * 1024;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
/** Files modified more recently than this are read afresh rather than cached. */
const RECENT_MS = 2000;

export interface CachedBody {
  body: Buffer;
  encoded: Partial<Record<Encoding, Buffer>>;
}

interface Entry extends CachedBody {
  /** When it was last put at the young end (see lru.ts: only the older half is moved on a read). */
  placed: number;
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
  dev: number;
}

/**
 * A body is served from memory only while the fresh stat of the request shows the same device,
 * inode, size, mtime and ctime: a content change moves mtime (or size), a file renamed over it
 * changes the inode, and a permission change (or an mtime put back with utimes) moves ctime,
 * after which the file is opened again (and an unreadable one answers 403, not its old body).
 * Bounded by bytes; when full, the least recently used bodies go first.
 */
export class BodyCache {
  #entries = new Map<string, Entry>();
  #bytes = 0;
  #placements = 0;
  readonly #maxBytes: number;

  constructor(maxBytes = DEFAULT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now (bodies and their compressed forms). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The body of a small file: from memory while unchanged, else read through a checked open. */
  async get(path: string, st: Stats): Promise<CachedBody> {
    const cached = this.#entries.get(path);
    if (cached !== undefined && isCurrent(cached, st)) {
      // Moved only from the older half, as in lru.ts: a Map delete and insert on every hit showed in profiles.
      if (this.#placements - cached.placed >= this.#entries.size / 2) {
        this.#entries.delete(path); // re-insert: the Map's order is the recency order
        this.#entries.set(path, cached);
        cached.placed = ++this.#placements;
      }
      return cached;
    }
    const handle = await openChecked(path, st);
    let body: Buffer;
    try {
      body = await readAll(handle, st.size);
    } finally {
      await handle.close();
    }
    const entry: Entry = { placed: ++this.#placements, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, size: st.size, ino: st.ino, dev: st.dev, body, encoded: {} };
    // A same-size rewrite within one timestamp tick would keep the key: do not cache a file
    // modified in the last two seconds (file systems with coarse timestamps tick that slowly).
    if (Date.now() - st.mtimeMs < RECENT_MS || body.length !== st.size) return entry;
    const current = this.#entries.get(path); // re-read: another request may have replaced it meanwhile
    if (current !== undefined) this.#drop(path, current);
    this.#entries.set(path, entry);
    this.#bytes += body.length;
    this.#trim();
    return entry;
  }

  /** Keep a compressed form of a body next to it (counted against the same budget). */
  addEncoded(path: string, entry: CachedBody, encoding: Encoding, data: Buffer): void {
    if (entry.encoded[encoding] !== undefined) return; // two requests compressed it at once
    entry.encoded[encoding] = data;
    if (this.#entries.get(path) === entry) {
      this.#bytes += data.length;
      this.#trim();
    }
  }

  #trim(): void {
    for (const [path, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#drop(path, entry);
    }
  }

  #drop(path: string, entry: Entry): void {
    this.#entries.delete(path);
    this.#bytes -= entry.body.length + (entry.encoded.br?.length ?? 0) + (entry.encoded.gzip?.length ?? 0);
  }
}

function isCurrent(e: Entry, st: Stats): boolean {
  return e.mtimeMs === st.mtimeMs && e.size === st.size && e.ino === st.ino && e.dev === st.dev && e.ctimeMs === st.ctimeMs;
}
