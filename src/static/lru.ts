// A Map bounded by entry count that evicts the least recently used entry, one at a time.

/**
 * Bounded caches used to `clear()` when full, which threw away every hot entry at once (a burst
 * of misses turned a warm cache cold). This keeps the hot entries: a `get` moves the entry to the
 * young end (Map keeps insertion order), and an insert beyond `max` drops only the oldest.
 *
 * A `get` moves an entry only when it sits in the older half (more than max/2 placements since
 * its own): moving costs a Map delete and insert, which showed as 10–15 % of a 1 KiB file load
 * when every request moved the same few entries (bench/README.md). An entry in the younger half
 * cannot be the oldest, so it is never the one evicted.
 */
export class LruMap<K, V> {
  readonly max: number;
  readonly #half: number;
  #map = new Map<K, { value: V; placed: number }>();
  #placements = 0;

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`LRU size must be at least 1, got ${max}`);
    this.max = max;
    this.#half = Math.floor(max / 2);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    if (this.#placements - entry.placed > this.#half) {
      this.#map.delete(key);
      this.#map.set(key, entry);
      entry.placed = ++this.#placements;
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, placed: ++this.#placements });
    if (this.#map.size > this.max) this.#dropOldest();
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  clear(): void {
    this.#map.clear();
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }

  /** Remove and return the least recently used entry. */
  shift(): [K, V] | undefined {
    const first = this.#map.entries().next();
    if (first.done === true) return undefined;
    this.#map.delete(first.value[0]);
    return [first.value[0], first.value[1].value];
  }

  #dropOldest(): void {
    const oldest = this.#map.keys().next();
    if (oldest.done !== true) this.#map.delete(oldest.value);
  }
}
