import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createReplayGuard, generateWebhookSecret, signWebhook, verifyWebhook } from '../src/webhooks/index.js';

// Interoperability with the reference libraries, used as peers: Stripe's `stripe` package and the Standard
// Webhooks `standardwebhooks` package verify what the SDK signs (and, below, sign what the SDK verifies).

const stripe = new Stripe('sk_test_gatehouse');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const event = { id: 'evt_1', type: 'key.created', createdAt: '2026-11-24T10:00:00.000Z', data: { keyId: 'key_1' } };
const body = JSON.stringify(event);

// The Standard Webhooks specification's published test vector (standard-webhooks/standard-webhooks,
// libraries/javascript/src/webhook.test.ts, "sign function works"; the same vector is in every language's suite).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('generateWebhookSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('signWebhook, standard scheme', () => {
  it('reproduces the Standard Webhooks test vector exactly', () => {
    const headers = signWebhook({ scheme: 'standard', secret: VECTOR.secret, id: VECTOR.id, timestamp: VECTOR.timestamp, payload: VECTOR.payload });
    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330', 'webhook-signature': VECTOR.signature });
    // The same bytes as a Buffer, and the secret without its prefix, sign the same.
    expect(
      signWebhook({ scheme: 'standard', secret: VECTOR.secret.slice(6), id: VECTOR.id, timestamp: VECTOR.timestamp, payload: Buffer.from(VECTOR.payload) }),
    ).toEqual(headers);
  });

  it('signs "<id>.<timestamp>.<body>" with the base64-decoded secret', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ scheme: 'standard', secret, id: 'msg_1', timestamp: 1700000000, payload: body });
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('verifies with standardwebhooks (Webhook.verify), with one secret and during a rotation with either', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const one = signWebhook({ scheme: 'standard', secret: newSecret, id: 'msg_one', payload: body });
    expect(new Webhook(newSecret).verify(body, one)).toEqual(event);

    const both = signWebhook({ scheme: 'standard', secrets: [oldSecret, newSecret], id: 'msg_two', payload: Buffer.from(body) });
    expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, both)).toEqual(event);
    expect(new Webhook(newSecret).verify(body, both)).toEqual(event);
    expect(() => new Webhook(generateWebhookSecret()).verify(body, both)).toThrow(/No matching signature/);
  });

  it('matches Webhook.sign byte for byte', () => {
    const secret = generateWebhookSecret();
    const timestamp = nowSeconds();
    const ours = signWebhook({ scheme: 'standard', secret, id: 'msg_x', timestamp, payload: body });
    expect(ours['webhook-signature']).toBe(new Webhook(secret).sign('msg_x', new Date(timestamp * 1000), body));
  });
});

describe('signWebhook, stripe scheme', () => {
  it('verifies with stripe.webhooks.constructEvent under the default and a custom header name', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ scheme: 'stripe', secret, payload: body });
    expect(Object.keys(headers)).toEqual(['Gatehouse-Signature']);
    expect(stripe.webhooks.constructEvent(body, headers['Gatehouse-Signature']!, secret)).toEqual(event);

    const asStripe = signWebhook({ scheme: 'stripe', secret, payload: Buffer.from(body), headerName: 'Stripe-Signature' });
    expect(stripe.webhooks.constructEvent(Buffer.from(body), asStripe['Stripe-Signature']!, secret)).toEqual(event);
  });

  it('signs "<t>.<body>" with the whole secret string as the key, one v1 per secret', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const header = signWebhook({ scheme: 'stripe', secrets: [a, b], timestamp: 1700000000, payload: body })['Gatehouse-Signature'];
    const mac = (secret: string) => createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${mac(a)},v1=${mac(b)}`);
    // Stripe accepts a header with several v1 signatures under either secret (it checks the past only).
    const receivedAt = 1700000000 * 1000;
    expect(stripe.webhooks.constructEvent(body, header!, a, 300, undefined, receivedAt)).toEqual(event);
    expect(stripe.webhooks.constructEvent(body, header!, b, 300, undefined, receivedAt)).toEqual(event);
  });

  it('matches stripe.webhooks.generateTestHeaderString', () => {
    const secret = 'whsec_test_secret';
    const timestamp = nowSeconds();
    expect(signWebhook({ scheme: 'stripe', secret, timestamp, payload: body })['Gatehouse-Signature']).toBe(
      stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }),
    );
  });
});

describe('verifyWebhook accepts what the reference libraries sign', () => {
  it('standardwebhooks Webhook.sign, and the spec vector at its own time', () => {
    const secret = generateWebhookSecret();
    const timestamp = nowSeconds();
    const headers = {
      'webhook-id': 'msg_ref',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': new Webhook(secret).sign('msg_ref', new Date(timestamp * 1000), body),
    };
    expect(verifyWebhook({ payload: body, headers, secret, scheme: 'standard' })).toEqual(event);
    expect(verifyWebhook({ payload: Buffer.from(body), headers, secret })).toEqual(event); // scheme detected

    const vectorHeaders = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };
    const at = () => VECTOR.timestamp * 1000;
    expect(verifyWebhook({ payload: VECTOR.payload, headers: vectorHeaders, secret: VECTOR.secret, now: at })).toEqual({ test: 2432232314 });
  });

  it('stripe.webhooks.generateTestHeaderString, under Stripe-Signature and with its v0 test signature beside', () => {
    const secret = generateWebhookSecret();
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    expect(verifyWebhook({ payload: body, headers: { 'gatehouse-signature': header }, secret })).toEqual(event);
    expect(verifyWebhook({ payload: body, headers: { 'stripe-signature': `${header},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39` }, secret, headerName: 'Stripe-Signature', scheme: 'stripe' })).toEqual(event);
  });
});

describe('verifyWebhook', () => {
  const secret = generateWebhookSecret();
  const at = 1_800_000_000;
  const now = () => at * 1000;

  it('round-trips both schemes, string and byte payloads, Node, Fetch and mixed-case headers', () => {
    const bytes = new Uint8Array(Buffer.from(body));
    for (const scheme of ['stripe', 'standard'] as const) {
      const headers = signWebhook({ scheme, secret, id: scheme === 'standard' ? 'msg_1' : undefined, timestamp: at, payload: body });
      expect(verifyWebhook({ payload: body, headers, secret, now })).toEqual(event);
      expect(verifyWebhook({ payload: bytes, headers: new Headers(headers), secret, scheme, now })).toEqual(event);
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(verifyWebhook({ payload: Buffer.from(body), headers: lower, secret, now })).toEqual(event);
      const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
      expect(verifyWebhook({ payload: body, headers: upper, secret, scheme, now })).toEqual(event);
    }
  });

  it('accepts any of several secrets (rotation) and any of several signatures', () => {
    const [previous, next, other] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
    for (const scheme of ['stripe', 'standard'] as const) {
      const id = scheme === 'standard' ? 'msg_rot' : undefined;
      const byPrevious = signWebhook({ scheme, secret: previous, id, timestamp: at, payload: body });
      const byBoth = signWebhook({ scheme, secrets: [previous, next], id, timestamp: at, payload: body });
      expect(verifyWebhook({ payload: body, headers: byPrevious, secrets: [next, previous], now })).toEqual(event);
      expect(verifyWebhook({ payload: body, headers: byBoth, secret: next, now })).toEqual(event);
      expect(verifyWebhook({ payload: body, headers: byBoth, secrets: [other, previous], now })).toEqual(event);
    }
  });

  it('parses with a given function, or returns the payload unparsed with parse: false', () => {
    const headers = signWebhook({ scheme: 'standard', secret, id: 'msg_p', timestamp: at, payload: body });
    const payload = Buffer.from(body);
    expect(verifyWebhook({ payload, headers, secret, now, parse: false })).toBe(payload);
    expect(verifyWebhook<string>({ payload, headers, secret, now, parse: (text) => text.toUpperCase() })).toBe(body.toUpperCase());
  });

  it('with a replay guard returns a Promise and lets each delivery through once', async () => {
    const guard = createReplayGuard({ now });
    const headers = signWebhook({ scheme: 'standard', secret, id: 'msg_once', timestamp: at, payload: body });
    const first = verifyWebhook({ payload: body, headers, secret, now, replayGuard: guard });
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toEqual(event);
    // An asynchronous guard (e.g. Redis) is awaited.
    const asyncGuard = { seen: async (id: string) => id === 'msg_done' };
    const done = signWebhook({ scheme: 'standard', secret, id: 'msg_done', timestamp: at, payload: body });
    await expect(verifyWebhook({ payload: body, headers, secret, now, replayGuard: asyncGuard })).resolves.toEqual(event);
    await expect(verifyWebhook({ payload: body, headers: done, secret, now, replayGuard: asyncGuard })).rejects.toMatchObject({ code: 'replayed' });
  });
});

describe('signWebhook misuse throws a TypeError at once', () => {
  const secret = generateWebhookSecret();
  const cases: [string, Record<string, unknown>][] = [
    ['no secret', { scheme: 'stripe', payload: body }],
    ['both secret and secrets', { scheme: 'stripe', payload: body, secret, secrets: [secret] }],
    ['empty secrets', { scheme: 'stripe', payload: body, secrets: [] }],
    ['empty secret', { scheme: 'stripe', payload: body, secret: '' }],
    ['a standard secret that is not base64', { scheme: 'standard', payload: body, secret: 'whsec_not base64!', id: 'msg_1' }],
    ['an unknown scheme', { scheme: 'github', payload: body, secret }],
    ['a parsed body', { scheme: 'stripe', payload: event, secret }],
    ['standard without id', { scheme: 'standard', payload: body, secret }],
    ['an id with a space', { scheme: 'standard', payload: body, secret, id: 'msg 1' }],
    ['headerName with standard', { scheme: 'standard', payload: body, secret, id: 'msg_1', headerName: 'X-Sig' }],
    ['a header name that is not a token', { scheme: 'stripe', payload: body, secret, headerName: 'X Sig:' }],
    ['a fractional timestamp', { scheme: 'stripe', payload: body, secret, timestamp: 1.5 }],
    ['a timestamp in milliseconds as a string', { scheme: 'stripe', payload: body, secret, timestamp: '1700000000000' }],
  ];
  it.each(cases)('%s', (_name, options) => {
    expect(() => signWebhook(options as never)).toThrow(TypeError);
  });
});
