/**
 * What a client caching credentials must forget, as it happens: the events of `GET /v1/revocations/stream`.
 * `key`: an API key (by the SHA-256 hex of its plaintext) was revoked, rotated or changed. `token`: an access
 * token was denylisted until `exp` (unix seconds).
 */
export type RevocationEvent = { type: 'key'; hash: string } | { type: 'token'; jti: string; exp: number };

export type RevocationListener = (event: RevocationEvent) => void;

/**
 * An in-process fan-out of revocation events to the open streams. It is fed with every revocation this process
 * learns of, whether made here or received from another process through pub/sub (main.ts wires both), and
 * holds no history: a subscriber that connects later starts from the current denylist instead.
 */
export class RevocationFeed {
  readonly #listeners = new Set<RevocationListener>();

  /** Returns the function that unsubscribes (idempotent). */
  subscribe(listener: RevocationListener): () => void {
    // A wrapper per subscription, so that one function subscribed twice is two subscribers.
    const entry: RevocationListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Delivers to every subscriber; one that throws does not keep the others from their event. */
  emit(event: RevocationEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own (a stream writes to a socket that may be gone).
      }
    }
  }

  /** How many subscribers there are. */
  get size(): number {
    return this.#listeners.size;
  }
}

/** How far apart two changes of one key must be for a poll to tell the second even if the first was already told. */
const POLL_TOLERANCE_MS = 2_000;

/**
 * Key invalidations reach the revoking process twice: it invalidates locally (and should tell its own streams
 * at once, even when the broadcast fails) and then receives its own broadcast back. This emits the local one
 * and drops the echo: a hash received while this process is still broadcasting the same hash is not emitted
 * again (a concurrent revocation of the same key elsewhere would say the same thing).
 *
 * In cluster mode the same change may also be found by the database poll (the fallback for lost pub/sub
 * messages): `polled` emits it unless this process already told its streams about that key at or after the
 * change (within POLL_TOLERANCE_MS, for clocks that differ a little). Two changes of one key closer together
 * than that, the second lost by pub/sub, are emitted once: a stream client's own cache TTL covers the second.
 */
export class KeyRevocationRelay {
  readonly #broadcasting = new Map<string, number>();
  /** hash -> when this process last emitted it (its own clock). */
  readonly #emitted = new Map<string, number>();

  constructor(
    private readonly feed: RevocationFeed,
    private readonly now: () => number = Date.now,
  ) {}

  /** Around a local invalidation's broadcast: emits now, and ignores echoes of `hash` until `broadcast` settles. */
  async local(hash: string, broadcast: () => Promise<void>): Promise<void> {
    this.#emit(hash);
    this.#broadcasting.set(hash, (this.#broadcasting.get(hash) ?? 0) + 1);
    try {
      await broadcast();
    } finally {
      const count = this.#broadcasting.get(hash)! - 1;
      if (count === 0) this.#broadcasting.delete(hash);
      else this.#broadcasting.set(hash, count);
    }
  }

  /** A hash received through pub/sub. */
  received(hash: string): void {
    if (!this.#broadcasting.has(hash)) this.#emit(hash);
  }

  /** A key found changed at `updatedAt` by the database poll. */
  polled(hash: string, updatedAt: number): void {
    const emitted = this.#emitted.get(hash);
    if (emitted !== undefined && emitted >= updatedAt - POLL_TOLERANCE_MS) return;
    this.#emit(hash);
  }

  /** Forgets what was emitted before `before` (the poll no longer looks that far back). */
  forget(before: number): void {
    for (const [hash, at] of this.#emitted) if (at < before) this.#emitted.delete(hash);
  }

  #emit(hash: string): void {
    // Bounded (embedded mode never polls, so never forgets): the oldest emission goes first.
    this.#emitted.delete(hash);
    this.#emitted.set(hash, this.now());
    if (this.#emitted.size > 100_000) this.#emitted.delete(this.#emitted.keys().next().value!);
    this.feed.emit({ type: 'key', hash });
  }
}
