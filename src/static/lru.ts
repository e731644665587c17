// A Map bounded by entry count that evicts the least recently used entry, one at a time.

/**
 * Bounded caches used to `clear()` when full, which threw away every hot entry at once (a burst
 * of misses turned a warm cache cold). This keeps the hot entries: a `get` moves the entry to the
 * young end (Map keeps insertion order), and an insert beyond `max` drops only the oldest.
 */
export class LruMap<K, V> {
  readonly max: number;
  #map = new Map<K, V>();

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`LRU size must be at least 1, got ${max}`);
    this.max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
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
    return first.value;
  }

  #dropOldest(): void {
    const oldest = this.#map.keys().next();
    if (oldest.done !== true) this.#map.delete(oldest.value);
  }
}
