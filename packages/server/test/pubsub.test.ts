import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPubSub } from '../src/core/pubsub/redis.js';
import { testRedisUrl } from './helpers/env.js';

describe.skipIf(!testRedisUrl)('Redis pub/sub with confirmed delivery', () => {
  const connections: Redis[] = [];
  const buses: RedisPubSub[] = [];
  const connect = () => {
    const redis = new Redis(testRedisUrl!, { maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  };
  const bus = (options?: { confirmTimeoutMs?: number }) => {
    const created = new RedisPubSub(connect(), options);
    buses.push(created);
    return created;
  };
  afterEach(async () => {
    for (const created of buses.splice(0)) await created.close();
    for (const redis of connections.splice(0)) redis.disconnect();
  });

  it('publish resolves only after every subscribed process has run its handlers', async () => {
    const channel = `test:confirm:${randomBytes(6).toString('hex')}`;
    const publisher = bus();
    const seen: string[][] = [[], [], []];
    const subscribers = [bus(), bus(), bus()];
    await Promise.all(subscribers.map((s, i) => s.subscribe(channel, (message) => seen[i]!.push(message))));
    for (let i = 0; i < 50; i++) {
      await publisher.publish(channel, `m${i}`);
      for (const received of seen) expect(received.at(-1)).toBe(`m${i}`);
    }
  });

  it('does not hang on a subscriber that never confirms, and ignores messages that are not its own', async () => {
    const channel = `test:confirm:${randomBytes(6).toString('hex')}`;
    const silent = connect().duplicate({ enableOfflineQueue: true });
    connections.push(silent);
    await silent.subscribe(channel);
    const listener = bus();
    const received: string[] = [];
    await listener.subscribe(channel, (message) => received.push(message));
    await bus({ confirmTimeoutMs: 100 }).publish(channel, 'hello');
    expect(received).toEqual(['hello']);
    // A raw message from something else on the channel is ignored, not handled as a malformed one.
    await connections[0]!.publish(channel, 'not an envelope');
    await bus({ confirmTimeoutMs: 100 }).publish(channel, 'again');
    expect(received).toEqual(['hello', 'again']);
  });
});
