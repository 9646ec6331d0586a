import type { Redis } from 'ioredis';
import type { PubSub } from './pubsub.js';

/**
 * Redis pub/sub. Publishing uses the shared command connection; subscribing needs a connection of its own,
 * duplicated from it. After a reconnect, subscribers are told, because messages sent meanwhile are lost.
 */
export class RedisPubSub implements PubSub {
  readonly #subscriber: Redis;
  #handlers = new Map<string, Array<(message: string) => void>>();
  #resubscribeHandlers: Array<() => void> = [];
  #connectedOnce = false;

  constructor(private readonly redis: Redis) {
    // The shared connection fails commands at once while disconnected (no offline queue); the subscriber's
    // only commands are (re)subscriptions, which must wait for its connection instead of failing.
    this.#subscriber = redis.duplicate({ enableOfflineQueue: true });
    this.#subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
    this.#subscriber.on('ready', () => {
      if (this.#connectedOnce) for (const handler of this.#resubscribeHandlers) handler();
      this.#connectedOnce = true;
    });
    // ioredis reconnects (and re-subscribes) by itself; errors are visible through /readyz.
    this.#subscriber.on('error', () => {});
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    const first = !this.#handlers.has(channel);
    this.#handlers.set(channel, [...(this.#handlers.get(channel) ?? []), handler]);
    if (first) await this.#subscriber.subscribe(channel);
  }

  onResubscribe(handler: () => void): void {
    this.#resubscribeHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    this.#subscriber.disconnect();
  }
}
