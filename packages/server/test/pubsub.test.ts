import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPubSub } from '../src/core/pubsub/redis.js';
import { createTestApp } from './helpers/test-app.js';
import { testRedisUrl } from './helpers/env.js';

describe.skipIf(!testRedisUrl)('Redis pub/sub with confirmed delivery', () => {
  const connections: Redis[] = [];
  const buses: RedisPubSub[] = [];
  const connect = () => {
    const redis = new Redis(testRedisUrl!, { maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  };
  const bus = (options?: { confirmTimeoutMs?: number; namespace?: string }) => {
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
    // On Redis, a channel is under the namespace (default gatehouse).
    await silent.subscribe(`gatehouse:${channel}`);
    const listener = bus();
    const received: string[] = [];
    await listener.subscribe(channel, (message) => received.push(message));
    await bus({ confirmTimeoutMs: 100 }).publish(channel, 'hello');
    expect(received).toEqual(['hello']);
    // A raw message from something else on the channel is ignored, not handled as a malformed one.
    await connections[0]!.publish(`gatehouse:${channel}`, 'not an envelope');
    await bus({ confirmTimeoutMs: 100 }).publish(channel, 'again');
    expect(received).toEqual(['hello', 'again']);
  });

  it('keeps deployments sharing one Redis apart: a namespace hears only its own messages', async () => {
    const channel = `test:namespace:${randomBytes(6).toString('hex')}`;
    const heard = { staging: [] as string[], production: [] as string[], production2: [] as string[] };
    const staging = bus({ namespace: 'staging', confirmTimeoutMs: 200 });
    const production = bus({ namespace: 'production', confirmTimeoutMs: 200 });
    const production2 = bus({ namespace: 'production', confirmTimeoutMs: 200 });
    await staging.subscribe(channel, (m) => heard.staging.push(m));
    await production.subscribe(channel, (m) => heard.production.push(m));
    await production2.subscribe(channel, (m) => heard.production2.push(m));
    await production.publish(channel, 'revoke key_1');
    await staging.publish(channel, 'block 203.0.113.7');
    expect(heard).toEqual({ staging: ['block 203.0.113.7'], production: ['revoke key_1'], production2: ['revoke key_1'] });
  });
});

describe.skipIf(!testRedisUrl)('GATEHOUSE_REDIS_NAMESPACE', () => {
  it('puts the rate limits and detection counters of a deployment under its namespace', async () => {
    const namespace = `ns_${randomBytes(6).toString('hex')}`;
    const t = await createTestApp({ redis: true, env: { GATEHOUSE_REDIS_NAMESPACE: namespace } });
    const redis = new Redis(testRedisUrl!, { maxRetriesPerRequest: 1 });
    try {
      const limited = await t.createKey({ name: 'limited', rateLimit: { limit: 5, windowSeconds: 60 } });
      expect((await t.api('POST', '/v1/keys/verify', { body: { key: limited.key } })).body.valid).toBe(true);
      expect((await t.api('POST', '/v1/keys/verify', { body: { key: `sk_live_${'x'.repeat(49)}` } })).body.valid).toBe(false);
      await t.services.detection.settled();
      // The verified key's own limit (the admin key's management limit is there too), and nothing outside the namespace.
      expect(await redis.keys(`${namespace}:rl:key:${limited.id}`)).toHaveLength(1);
      expect(await redis.keys(`gatehouse:rl:key:${limited.id}`)).toHaveLength(0);
      expect((await redis.keys(`${namespace}:detect:*`)).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
      await t.close();
    }
  });
});

