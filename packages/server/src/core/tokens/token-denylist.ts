import type { Clock } from '../clock.js';
import type { PubSub } from '../pubsub/pubsub.js';
import type { DeniedToken, GrantStore } from '../../storage/stores.js';

const CHANNEL = 'gatehouse:deny:access-token';

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
  #purgeTimer: NodeJS.Timeout | undefined;

  private constructor(store: Pick<GrantStore, 'listDeniedTokens'>, pubsub: PubSub, clock: Clock) {
    this.#store = store;
    this.#pubsub = pubsub;
    this.#clock = clock;
  }

  static async open(deps: { store: Pick<GrantStore, 'listDeniedTokens'>; pubsub: PubSub; clock: Clock }): Promise<TokenDenylist> {
    const denylist = new TokenDenylist(deps.store, deps.pubsub, deps.clock);
    await deps.pubsub.subscribe(CHANNEL, (message) => denylist.#receive(message));
    deps.pubsub.onResubscribe(() => void denylist.reload().catch(() => {}));
    await denylist.reload();
    denylist.#purgeTimer = setInterval(() => denylist.#purge(), 60_000);
    denylist.#purgeTimer.unref();
    return denylist;
  }

  async reload(): Promise<void> {
    for (const token of await this.#store.listDeniedTokens(this.#clock.now())) this.#denied.set(token.jti, token.expiresAt);
  }

  isDenied(jti: string): boolean {
    return this.#denied.has(jti);
  }

  /** Call after the store has recorded the denial: applies it here at once and tells the other processes. */
  async announce(tokens: readonly DeniedToken[]): Promise<void> {
    if (tokens.length === 0) return;
    for (const token of tokens) this.#denied.set(token.jti, token.expiresAt);
    await this.#pubsub.publish(CHANNEL, JSON.stringify(tokens.map((t) => [t.jti, t.expiresAt])));
  }

  #receive(message: string): void {
    try {
      for (const [jti, expiresAt] of JSON.parse(message) as Array<[string, number]>) this.#denied.set(jti, expiresAt);
    } catch {
      // Not ours: ignore.
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
