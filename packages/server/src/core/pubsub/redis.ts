import type { Redis } from 'ioredis';
import { randomBase62 } from '../random.js';
import { withTimeout } from '../with-timeout.js';
import type { PubSub } from './pubsub.js';

/** What every Redis key and channel of Gatehouse starts with, unless GATEHOUSE_REDIS_NAMESPACE says otherwise. */
export const DEFAULT_REDIS_NAMESPACE = 'gatehouse';

/** How long `publish` waits for every subscriber to confirm it has handled a message. */
const DEFAULT_CONFIRM_TIMEOUT_MS = 1000;
/** How long `publish` waits for Redis itself (the subscription of its reply channel, the PUBLISH). */
const DEFAULT_TIMEOUT_MS = 500;

interface Envelope {
  /** The message. */
  m: string;
  /** Where to confirm handling, and under which id. */
  a: string;
  i: string;
}

function parseEnvelope(raw: string): Envelope | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Envelope> | null;
    return value && typeof value.m === 'string' && typeof value.a === 'string' && typeof value.i === 'string' ? (value as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Redis pub/sub. Publishing uses the shared command connection; subscribing needs a connection of its own,
 * duplicated from it. After a reconnect, subscribers are told, because messages sent meanwhile are lost.
 *
 * `publish` resolves once every process subscribed to the channel has run its handlers for the message (each
 * confirms on the publisher's own reply channel; PUBLISH says how many received it), or after a timeout. So
 * when a revocation call returns, every live process has already dropped what it cached: "immediate on every
 * process" holds for the very next request, whichever process serves it.
 *
 * `publish` never throws and never waits for Redis longer than `timeoutMs` (plus the confirmation wait once
 * Redis has accepted the message): a revocation must succeed while Redis is down or hung. A message that could
 * not be sent is reported through `onError`; the other processes learn of the change from the database, which
 * every process polls (main.ts).
 *
 * Channel names are given without a namespace (`ip-blocks`); on Redis they are `<namespace>:<name>`, so that
 * deployments sharing one Redis (staging and production, say) each hear only their own messages.
 */
export class RedisPubSub implements PubSub {
  readonly #subscriber: Redis;
  readonly #namespace: string;
  readonly #replyChannel: string;
  readonly #pending = new Map<string, () => void>();
  readonly #confirmTimeoutMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (message: string, error: unknown) => void;
  #replySubscription: Promise<unknown> | undefined;
  #handlers = new Map<string, Array<(message: string) => void>>();
  #resubscribeHandlers: Array<() => void> = [];
  #connectedOnce = false;
  /** Reconnected, channels not subscribed again yet. */
  #resubscribing = false;

  constructor(
    private readonly redis: Redis,
    options: {
      confirmTimeoutMs?: number;
      namespace?: string;
      /** How long publish waits for Redis (default 500 ms; main.ts passes GATEHOUSE_REDIS_TIMEOUT_MS). */
      timeoutMs?: number;
      /** Where a message that could not be published is reported. */
      onError?: (message: string, error: unknown) => void;
    } = {},
  ) {
    this.#confirmTimeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onError = options.onError ?? (() => {});
    this.#namespace = options.namespace ?? DEFAULT_REDIS_NAMESPACE;
    this.#replyChannel = `${this.#namespace}:confirm:${randomBase62(20)}`;
    // The shared connection fails commands at once while disconnected (no offline queue); the subscriber's
    // only commands are (re)subscriptions, which must wait for its connection instead of failing; nor do they
    // time out (ioredis re-subscribes by itself on reconnecting): publish bounds its own wait instead.
    // ioredis's own re-subscription after a reconnect leaves its promise unhandled: should the connection drop
    // again before Redis answers, the process would die of an unhandled rejection. This class re-subscribes itself.
    this.#subscriber = redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, autoResubscribe: false });
    this.#subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.#replyChannel) {
        this.#pending.get(raw)?.();
        return;
      }
      const envelope = parseEnvelope(raw);
      if (!envelope) return;
      for (const handler of this.#handlers.get(channel) ?? []) handler(envelope.m);
      this.redis.publish(envelope.a, envelope.i).catch(() => {});
    });
    this.#subscriber.on('ready', () => {
      if (this.#connectedOnce) this.#resubscribe();
      this.#connectedOnce = true;
    });
    // ioredis reconnects (and re-subscribes) by itself; errors are visible through /readyz.
    this.#subscriber.on('error', () => {});
  }

  async publish(channel: string, message: string): Promise<void> {
    try {
      await this.#publish(channel, message);
    } catch (error) {
      this.#onError(`a message on ${channel} could not be broadcast through Redis (the other processes read it from the database)`, error);
    }
  }

  async #publish(channel: string, message: string): Promise<void> {
    this.#replySubscription ??= this.#subscriber.subscribe(this.#replyChannel).catch((error: unknown) => {
      // Not kept: the next publish subscribes again.
      this.#replySubscription = undefined;
      throw error;
    });
    await withTimeout(this.#replySubscription, this.#timeoutMs, 'Redis subscription');
    const id = randomBase62(16);
    let confirmed = 0;
    let expected = Number.POSITIVE_INFINITY;
    let allConfirmed!: () => void;
    const done = new Promise<void>((resolve) => (allConfirmed = resolve));
    this.#pending.set(id, () => {
      if (++confirmed >= expected) allConfirmed();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      // The command connection's commandTimeout bounds this too; the race keeps the bound for any connection.
      const publishing = this.redis.publish(this.#channel(channel), JSON.stringify({ m: message, a: this.#replyChannel, i: id } satisfies Envelope));
      expected = await withTimeout(publishing, this.#timeoutMs, 'Redis PUBLISH');
      if (confirmed >= expected) return;
      // A subscriber that cannot answer in time (stuck or gone) must not hold the caller: it reads the change
      // from the database at its next poll.
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#confirmTimeoutMs)))]);
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  async subscribe(name: string, handler: (message: string) => void): Promise<void> {
    const channel = this.#channel(name);
    const first = !this.#handlers.has(channel);
    this.#handlers.set(channel, [...(this.#handlers.get(channel) ?? []), handler]);
    // Only at start-up: a Redis that hangs then stops the start (bounded) instead of holding it for ever.
    if (first) await withTimeout(this.#subscriber.subscribe(channel), Math.max(this.#timeoutMs, 5_000), 'Redis SUBSCRIBE');
  }

  #channel(name: string): string {
    return `${this.#namespace}:${name}`;
  }

  /** After a reconnect: subscribes every channel again, then tells the subscribers that messages may have been lost. */
  #resubscribe(): void {
    const channels = [...this.#handlers.keys()];
    if (this.#replySubscription) channels.push(this.#replyChannel);
    this.#resubscribing = true;
    const subscribing = channels.length > 0 ? this.#subscriber.subscribe(...channels) : Promise.resolve();
    subscribing.then(
      () => {
        this.#resubscribing = false;
        for (const handler of this.#resubscribeHandlers) handler();
      },
      // The connection dropped again: the next 'ready' tries again (meanwhile the database poll covers).
      (error: unknown) => this.#onError('Redis channels could not be subscribed again', error),
    );
  }

  /** Whether the subscription is up (it may still be hung: only a command with a timeout tells). */
  get subscribed(): boolean {
    return this.#subscriber.status === 'ready' && !this.#resubscribing;
  }

  onResubscribe(handler: () => void): void {
    this.#resubscribeHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    this.#subscriber.disconnect();
  }
}
