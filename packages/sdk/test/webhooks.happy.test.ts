import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook } from '../src/webhooks/index.js';

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
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
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
