import type { ApiKeyRecord } from '../../storage/stores.js';
import type { Clock } from '../clock.js';

export interface KeyCacheOptions<T = ApiKeyRecord> {
  load(key: string): Promise<T | undefined>;
  clock: Clock;
  /** Upper bound on how long an entry is trusted without a reload: the safety net should an
   * invalidation message be lost. Invalidation, not this TTL, is what makes revocation immediate. */
  ttlMs: number;
  maxEntries: number;
}

interface Entry<T> {
  record: T;
  loadedAt: number;
}

/**
 * The in-process cache that keeps key verification off the database. Keyed by key hash (API keys) or by id
 * (OAuth clients: `KeyCache<OAuthClientRecord>`).
 *
 * A load that races an invalidation must not put the stale record back: every invalidation bumps a
 * generation counter, and a load whose generation changed while it ran answers its caller but is not cached.
 * Concurrent misses for one hash share one load (single flight).
 */
export class KeyCache<T = ApiKeyRecord> {
  #entries = new Map<string, Entry<T>>();
  #loading = new Map<string, Promise<T | undefined>>();
  #generation = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly options: KeyCacheOptions<T>) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The cached record, without loading. */
  peek(hash: string): T | undefined {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    if (this.options.clock.now() - entry.loadedAt >= this.options.ttlMs) {
      this.#entries.delete(hash);
      return undefined;
    }
    this.hits++;
    return entry.record;
  }

  get(hash: string): Promise<T | undefined> {
    const cached = this.peek(hash);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.load(hash);
  }

  load(hash: string): Promise<T | undefined> {
    const pending = this.#loading.get(hash);
    if (pending) return pending;
    this.misses++;
    const generation = this.#generation;
    const loading = this.options
      .load(hash)
      .then((record) => {
        if (record !== undefined && generation === this.#generation) this.#remember(hash, record);
        return record;
      })
      .finally(() => {
        if (this.#loading.get(hash) === loading) this.#loading.delete(hash);
      });
    this.#loading.set(hash, loading);
    return loading;
  }

  invalidate(hash: string): void {
    this.#generation++;
    this.#entries.delete(hash);
    this.#loading.delete(hash);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#loading.clear();
  }

  #remember(hash: string, record: T): void {
    if (this.#entries.size >= this.options.maxEntries) {
      // Evict the oldest insertion; Map iteration order is insertion order.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(hash, { record, loadedAt: this.options.clock.now() });
  }
}
