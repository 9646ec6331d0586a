import type { Clock } from '../clock.js';
import type { PubSub } from '../pubsub/pubsub.js';
import type { DeniedToken, GrantStore } from '../../storage/stores.js';

const CHANNEL = 'deny:access-token';

/**
 * Revoked access tokens by jti, kept in memory until they expire so that checking one costs a Map lookup.
 * The database is the source of truth (loaded on start and after a lost subscription); in a cluster, a
 * revocation reaches every process through the pub/sub channel.
 */
export class TokenDenylist {
  readonly #denied = new Map<string, number>();
  readonly #clock: Clock;
  readonly #pubsub: PubSub;
  readonly #store: Pick<GrantStore, 'listDeniedTokens'>;
  readonly #onDenied: (token: DeniedToken) => void;
  #purgeTimer: NodeJS.Timeout | undefined;

  private constructor(store: Pick<GrantStore, 'listDeniedTokens'>, pubsub: PubSub, clock: Clock, onDenied: (token: DeniedToken) => void) {
    this.#store = store;
    this.#pubsub = pubsub;
    this.#clock = clock;
    this.#onDenied = onDenied;
  }

  /**
   * `onDenied` is told of each token the first time this process learns it is denied (announced here, received
   * from another process, or found by a reload), once: the echo of this process's own announcement is not news.
   */
  static async open(deps: {
    store: Pick<GrantStore, 'listDeniedTokens'>;
    pubsub: PubSub;
    clock: Clock;
    onDenied?: (token: DeniedToken) => void;
  }): Promise<TokenDenylist> {
    const denylist = new TokenDenylist(deps.store, deps.pubsub, deps.clock, deps.onDenied ?? (() => {}));
    await deps.pubsub.subscribe(CHANNEL, (message) => denylist.#receive(message));
    deps.pubsub.onResubscribe(() => void denylist.reload().catch(() => {}));
    await denylist.reload();
    denylist.#purgeTimer = setInterval(() => denylist.#purge(), 60_000);
    denylist.#purgeTimer.unref();
    return denylist;
  }

  async reload(): Promise<void> {
    for (const token of await this.#store.listDeniedTokens(this.#clock.now())) this.#add(token.jti, token.expiresAt);
  }

  /** The denied tokens that have not expired at `now`. */
  list(now: number): DeniedToken[] {
    const tokens: DeniedToken[] = [];
    for (const [jti, expiresAt] of this.#denied) if (expiresAt > now) tokens.push({ jti, expiresAt });
    return tokens;
  }

  isDenied(jti: string): boolean {
    return this.#denied.has(jti);
  }

  /** Call after the store has recorded the denial: applies it here at once and tells the other processes. */
  async announce(tokens: readonly DeniedToken[]): Promise<void> {
    if (tokens.length === 0) return;
    for (const token of tokens) this.#add(token.jti, token.expiresAt);
    await this.#pubsub.publish(CHANNEL, JSON.stringify(tokens.map((t) => [t.jti, t.expiresAt])));
  }

  #receive(message: string): void {
    try {
      for (const [jti, expiresAt] of JSON.parse(message) as Array<[string, number]>) this.#add(jti, expiresAt);
    } catch {
      // Not ours: ignore.
    }
  }

  #add(jti: string, expiresAt: number): void {
    if (this.#denied.has(jti)) return;
    this.#denied.set(jti, expiresAt);
    try {
      this.#onDenied({ jti, expiresAt });
    } catch {
      // The listener's failure must not stop the denial.
    }
  }

  #purge(): void {
    const now = this.#clock.now();
    for (const [jti, expiresAt] of this.#denied) if (expiresAt <= now) this.#denied.delete(jti);
  }

  close(): void {
    clearInterval(this.#purgeTimer);
  }
}
