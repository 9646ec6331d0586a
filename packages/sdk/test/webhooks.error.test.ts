import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createReplayGuard,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookVerificationErrorCode,
} from '../src/webhooks/index.js';

// Every way a delivery can be malformed, each refused with its stable code (bad input from a sender), and every
// way verifyWebhook can be misused (a TypeError: a bug in the receiver).

const secret = generateWebhookSecret();
const at = 1_800_000_000;
const now = () => at * 1000;
const body = '{"id":"evt_1","type":"key.created","data":{"keyId":"key_1"}}';

const stripeHeader = signWebhook({ scheme: 'stripe', secret, timestamp: at, payload: body })['Gatehouse-Signature']!;
const HEX = stripeHeader.slice(stripeHeader.indexOf('v1=') + 3);
const standard = signWebhook({ scheme: 'standard', secret, id: 'msg_1', timestamp: at, payload: body });
const B64 = standard['webhook-signature']!.slice(3);
const flip = (text: string) => (text[0] === 'a' ? 'b' : 'a') + text.slice(1);

function codeOf(options: Partial<VerifyWebhookOptions>): WebhookVerificationErrorCode | 'accepted' {
  try {
    verifyWebhook({ payload: body, headers: {}, secret, now, ...options } as VerifyWebhookOptions);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    expect(error.message).not.toContain(secret);
    return error.code;
  }
}

describe('stripe scheme: malformed Gatehouse-Signature headers', () => {
  const cases: [string, string | string[] | undefined, WebhookVerificationErrorCode | 'accepted'][] = [
    ['the valid header', stripeHeader, 'accepted'],
    ['upper-case hex', `t=${at},v1=${HEX.toUpperCase()}`, 'accepted'],
    ['no header', undefined, 'missing_header'],
    ['an empty header', '', 'missing_header'],
    ['no timestamp', `v1=${HEX}`, 'malformed_header'],
    ['no signature', `t=${at}`, 'malformed_header'],
    ['an empty signature', `t=${at},v1=`, 'malformed_header'],
    ['an empty timestamp', `t=,v1=${HEX}`, 'malformed_header'],
    ['a non-numeric timestamp', `t=abc,v1=${HEX}`, 'malformed_header'],
    ['a negative timestamp', `t=-${at},v1=${HEX}`, 'malformed_header'],
    ['an exponent timestamp', `t=1.8e9,v1=${HEX}`, 'malformed_header'],
    ['a timestamp with a leading zero', `t=0${at},v1=${HEX}`, 'malformed_header'],
    ['a huge timestamp', `t=${'9'.repeat(20)},v1=${HEX}`, 'malformed_header'],
    ['a timestamp in milliseconds', `t=${at}000,v1=${HEX}`, 'timestamp_outside_tolerance'],
    ['two timestamps', `t=${at},t=${at},v1=${HEX}`, 'malformed_header'],
    ['a doubled comma', `t=${at},,v1=${HEX}`, 'malformed_header'],
    ['a leading comma', `,t=${at},v1=${HEX}`, 'malformed_header'],
    ['a trailing comma', `${stripeHeader},`, 'malformed_header'],
    ['a space after a comma', `t=${at}, v1=${HEX}`, 'malformed_header'],
    ['semicolons', `t=${at};v1=${HEX}`, 'malformed_header'],
    ['an item without =', `t=${at},v1${HEX}`, 'malformed_header'],
    ['an empty key', `t=${at},=${HEX}`, 'malformed_header'],
    ['a short signature', `t=${at},v1=${HEX.slice(1)}`, 'malformed_header'],
    ['a non-hex signature', `t=${at},v1=${'z'.repeat(64)}`, 'malformed_header'],
    ['a base64 signature', `t=${at},v1=${B64}`, 'malformed_header'],
    ['only v0 (unknown version)', `t=${at},v0=${HEX}`, 'unsupported_version'],
    ['only unknown versions', `t=${at},v2=${HEX},v1a=abc`, 'unsupported_version'],
    ['an unknown version beside a good v1', `t=${at},v2=xyz,v1=${HEX}`, 'accepted'],
    ['a wrong v1 beside the good one', `t=${at},v1=${flip(HEX)},v1=${HEX}`, 'accepted'],
    ['a wrong signature', `t=${at},v1=${flip(HEX)}`, 'no_signature_matched'],
    ['another timestamp', `t=${at + 1},v1=${HEX}`, 'no_signature_matched'],
    ['two header values', [stripeHeader, stripeHeader], 'malformed_header'],
  ];
  it.each(cases)('%s', (_name, value, code) => {
    expect(codeOf({ headers: { 'gatehouse-signature': value } })).toBe(code);
  });
});

describe('standard scheme: malformed webhook-* headers', () => {
  const cases: [string, Record<string, string | undefined>, WebhookVerificationErrorCode | 'accepted'][] = [
    ['the valid headers', {}, 'accepted'],
    ['no webhook-id', { 'webhook-id': undefined }, 'missing_header'],
    ['an empty webhook-id', { 'webhook-id': '' }, 'missing_header'],
    ['no webhook-timestamp', { 'webhook-timestamp': undefined }, 'missing_header'],
    ['no webhook-signature (with scheme: standard)', { 'webhook-signature': undefined }, 'missing_header'],
    ['an empty webhook-signature', { 'webhook-signature': '' }, 'missing_header'],
    ['a non-numeric timestamp', { 'webhook-timestamp': 'hello' }, 'malformed_header'],
    ['a fractional timestamp', { 'webhook-timestamp': `${at}.5` }, 'malformed_header'],
    ['a timestamp with a space', { 'webhook-timestamp': ` ${at}` }, 'malformed_header'],
    ['a huge timestamp', { 'webhook-timestamp': '1'.repeat(16) }, 'malformed_header'],
    ['an empty signature', { 'webhook-signature': 'v1,' }, 'malformed_header'],
    ['a version without signature', { 'webhook-signature': 'v1' }, 'malformed_header'],
    ['a signature without version', { 'webhook-signature': `,${B64}` }, 'malformed_header'],
    ['a partial signature', { 'webhook-signature': `v1,${B64.slice(0, 5)}` }, 'malformed_header'],
    ['a garbled signature', { 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' }, 'malformed_header'],
    ['a signature of the right length that is not base64', { 'webhook-signature': `v1,${'!'.repeat(43)}=` }, 'malformed_header'],
    ['a hex signature', { 'webhook-signature': `v1,${HEX}` }, 'malformed_header'],
    ['a signature whose padding is replaced', { 'webhook-signature': `v1,${B64.slice(0, 43)}!` }, 'malformed_header'],
    ['a doubled space', { 'webhook-signature': `v2,${B64}  v1,${B64}` }, 'malformed_header'],
    ['a leading space', { 'webhook-signature': ` v1,${B64}` }, 'malformed_header'],
    ['a trailing space', { 'webhook-signature': `v1,${B64} ` }, 'malformed_header'],
    ['comma-separated signatures', { 'webhook-signature': `v1,${B64},v1,${B64}` }, 'malformed_header'],
    ['only unknown versions', { 'webhook-signature': `v2,${B64} v1a,${B64}` }, 'unsupported_version'],
    ['an unknown version beside a good v1', { 'webhook-signature': `v1a,xyz v1,${B64}` }, 'accepted'],
    ['a wrong signature', { 'webhook-signature': `v1,${flip(B64)}` }, 'no_signature_matched'],
    ['another id', { 'webhook-id': 'msg_2' }, 'no_signature_matched'],
    ['another timestamp', { 'webhook-timestamp': String(at - 1) }, 'no_signature_matched'],
  ];
  it.each(cases)('%s', (_name, changes, code) => {
    expect(codeOf({ headers: { ...standard, ...changes }, scheme: 'standard' })).toBe(code);
  });

  it('without a scheme, a delivery with no signature header at all is missing the stripe header', () => {
    expect(codeOf({ headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(at) } })).toBe('missing_header');
  });
});

describe('payload', () => {
  for (const scheme of ['stripe', 'standard'] as const) {
    const headers = scheme === 'stripe' ? { 'gatehouse-signature': stripeHeader } : standard;
    it(`${scheme}: a whitespace-changed, reformatted or truncated body does not match`, () => {
      for (const changed of [`${body}\n`, ` ${body}`, body.replace(':', ': '), JSON.stringify(JSON.parse(body), null, 2), body.slice(0, -1), '']) {
        expect(codeOf({ payload: changed, headers })).toBe('no_signature_matched');
      }
    });

    it(`${scheme}: another secret does not match, nor the right one under the other scheme`, () => {
      expect(codeOf({ headers, secret: generateWebhookSecret() })).toBe('no_signature_matched');
      expect(codeOf({ headers, secret: undefined, secrets: [generateWebhookSecret(), generateWebhookSecret()] })).toBe('no_signature_matched');
      // The stripe scheme keys the HMAC with the secret's text, the standard scheme with its decoded bytes: the
      // other scheme's key over the right bytes does not match.
      const crossed =
        scheme === 'stripe'
          ? { 'gatehouse-signature': `t=${at},v1=${createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${at}.${body}`).digest('hex')}` }
          : { ...standard, 'webhook-signature': `v1,${createHmac('sha256', secret).update(`msg_1.${at}.${body}`).digest('base64')}` };
      expect(codeOf({ headers: crossed })).toBe('no_signature_matched');
    });

    it(`${scheme}: a signed payload that does not parse is invalid_payload, with the cause`, () => {
      for (const payload of ['not json', '', '{"a":']) {
        const signed = signWebhook({ scheme, secret, id: 'msg_p', timestamp: at, payload });
        expect(codeOf({ payload, headers: signed })).toBe('invalid_payload');
      }
      const error = (() => {
        try {
          verifyWebhook({ payload: body, headers, secret, now, parse: () => { throw new RangeError('no such event type'); } });
        } catch (e) {
          return e as WebhookVerificationError;
        }
      })();
      expect(error).toMatchObject({ code: 'invalid_payload', cause: expect.any(RangeError) });
    });
  }
});

describe('verifyWebhook misuse throws a TypeError, with or without a replay guard', () => {
  const headers = standard;
  const cases: [string, Record<string, unknown>][] = [
    ['no secret', { payload: body, headers }],
    ['secret and secrets', { payload: body, headers, secret, secrets: [secret] }],
    ['an empty secrets array', { payload: body, headers, secrets: [] }],
    ['a secret that is not a string', { payload: body, headers, secret: Buffer.from('x') }],
    ['a standard secret that is not base64', { payload: body, headers, secret: 'whsec_%%%' }],
    ['a parsed body', { payload: JSON.parse(body), headers, secret }],
    ['no payload', { headers, secret }],
    ['no headers', { payload: body, secret }],
    ['a negative tolerance', { payload: body, headers, secret, toleranceSeconds: -1 }],
    ['a NaN tolerance', { payload: body, headers, secret, toleranceSeconds: Number.NaN }],
    ['an infinite tolerance', { payload: body, headers, secret, toleranceSeconds: Number.POSITIVE_INFINITY }],
    ['an unknown scheme', { payload: body, headers, secret, scheme: 'svix' }],
    ['a bad header name', { payload: body, headers, secret, headerName: 'a b' }],
    ['a replay guard without seen', { payload: body, headers, secret, replayGuard: {} }],
    ['parse: true', { payload: body, headers, secret, parse: true }],
    ['now that is not a function', { payload: body, headers, secret, now: 5 }],
    // With the scheme detected, the sender picks it: a secret the standard scheme cannot use is misuse at once.
    ['a stripe-only secret with the scheme detected', { payload: body, headers: { 'gatehouse-signature': stripeHeader }, secret: 'whsec_test_secret' }],
  ];
  it.each(cases)('%s', (_name, options) => {
    expect(() => verifyWebhook({ now, ...options } as never)).toThrow(TypeError);
    if (!('replayGuard' in options)) {
      expect(() => verifyWebhook({ now, ...options, replayGuard: createReplayGuard() } as never)).toThrow(TypeError);
    }
  });

  it('a verification error with a replay guard is a rejection, never a synchronous throw', async () => {
    const pending = verifyWebhook({ payload: `${body} `, headers, secret, now, replayGuard: createReplayGuard() });
    await expect(pending).rejects.toMatchObject({ code: 'no_signature_matched' });
  });
});
