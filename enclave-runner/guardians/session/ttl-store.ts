/**
 * An in-memory set of keys that expire, bounded in size. Entries are kept in insertion order, which is
 * expiry order when every entry gets the same lifetime, so sweeping and eviction only look at the front.
 */
export class TtlStore {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /** Marks `key` until `until` (ms since the epoch); a later mark replaces an earlier one. */
  set(key: string, until: number): void {
    this.entries.delete(key);
    this.entries.set(key, until);
    this.sweep(8);
    // Over the bound, the oldest entry (the one closest to expiry) goes first.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** The expiry of `key` if it is still marked, else undefined. */
  get(key: string): number | undefined {
    const until = this.entries.get(key);
    if (until === undefined) return undefined;
    if (until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return until;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops up to `budget` expired entries from the front, so a busy store does not grow with dead keys. */
  private sweep(budget: number): void {
    const t = this.now();
    for (const [key, until] of this.entries) {
      if (budget-- <= 0 || until > t) break;
      this.entries.delete(key);
    }
  }
}
