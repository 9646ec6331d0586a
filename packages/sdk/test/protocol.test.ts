import { describe, expect, it } from 'vitest';
import { checkTimeClaims, CLOCK_SKEW_SECONDS, credentialInQuery, credentialParameter, decodeBase64Url, decodeJoseSegment } from '../src/index.js';
import { CREDENTIAL_QUERY_NAMES, HARMLESS_QUERY_NAMES, INVALID_UTF8, jsonWithBytes } from './helpers/protocol-cases.js';

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

describe('decodeJoseSegment: the one strict decoding rule of JWS headers and payloads (server and SDK)', () => {
  it('decodes a JSON object, UTF-8 beyond ASCII included', () => {
    expect(decodeJoseSegment(b64(JSON.stringify({ alg: 'EdDSA', name: 'Zoë 🐈' })))).toStrictEqual({ alg: 'EdDSA', name: 'Zoë 🐈' });
  });

  it.each(INVALID_UTF8)('refuses %s inside a string, which a lenient decoder turns into U+FFFD', (_name, bytes) => {
    const segment = b64(jsonWithBytes({ alg: 'EdDSA' }, 'x', bytes));
    // The lenient reading is valid JSON: only the strict UTF-8 rule refuses it.
    expect(JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))).toMatchObject({ alg: 'EdDSA' });
    expect(decodeJoseSegment(segment)).toBeUndefined();
  });

  it('refuses a byte order mark, non-objects, bad base64url and non-canonical spellings', () => {
    for (const segment of [
      b64(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{}')])),
      b64('[]'),
      b64('null'),
      b64('"x"'),
      b64('42'),
      b64('{"a":1'),
      '',
      'e30=', // padding
      'e3 0',
      'e30+',
      'e31', // "{}" with stray trailing bits
      'eyJhIjoxfQA', // 4n+3 with a NUL: decodes, not JSON
      'e',
    ]) {
      expect(decodeJoseSegment(segment), segment).toBeUndefined();
    }
    expect(decodeJoseSegment('e30')).toStrictEqual({});
  });

  it('decodeBase64Url agrees with Node for canonical input and refuses the rest', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 0xff);
      expect(decodeBase64Url(b64(bytes)), String(n)).toStrictEqual(bytes);
    }
    expect(decodeBase64Url('A')).toBeUndefined();
    expect(decodeBase64Url('AB')).toBeUndefined(); // stray bits: AA is the canonical spelling of 0x00
    expect(decodeBase64Url('AA')).toStrictEqual(new Uint8Array([0]));
  });
});

describe('checkTimeClaims: one clock-skew policy for exp, nbf and iat', () => {
  const T = 1_800_000_000;
  const at = (seconds: number) => seconds * 1000;
  const claims = (extra: Record<string, unknown> = {}) => ({ iat: T, exp: T + 300, ...extra });

  it('is 60 seconds, the SDK default and the server constant', () => {
    expect(CLOCK_SKEW_SECONDS).toBe(60);
  });

  it('exp: good until exp + tolerance, expired from then on', () => {
    expect(checkTimeClaims(claims(), at(T + 300 + 59))).toBe('valid');
    expect(checkTimeClaims(claims(), at(T + 300 + 59) + 999)).toBe('valid');
    expect(checkTimeClaims(claims(), at(T + 300 + 60))).toBe('expired');
    expect(checkTimeClaims(claims(), at(T + 300), 0)).toBe('expired');
    expect(checkTimeClaims(claims(), at(T + 299), 0)).toBe('valid');
  });

  it('nbf and iat: up to the tolerance in the future, not one second more', () => {
    expect(checkTimeClaims(claims({ nbf: T + 60 }), at(T))).toBe('valid');
    expect(checkTimeClaims(claims({ nbf: T + 61 }), at(T))).toBe('invalid');
    expect(checkTimeClaims(claims({ iat: T + 60 }), at(T))).toBe('valid');
    expect(checkTimeClaims(claims({ iat: T + 61 }), at(T))).toBe('invalid');
    expect(checkTimeClaims(claims({ iat: T + 5 }), at(T), 5)).toBe('valid');
    expect(checkTimeClaims(claims({ iat: T + 6 }), at(T), 5)).toBe('invalid');
  });

  it('refuses missing or non-numeric claims, and iat after exp', () => {
    for (const broken of [{ exp: undefined }, { iat: undefined }, { exp: String(T + 300) }, { iat: Number.NaN }, { nbf: 'soon' }, { nbf: null }, { iat: T + 301 }]) {
      expect(checkTimeClaims(claims(broken), at(T)), JSON.stringify(broken)).toBe('invalid');
    }
  });
});

describe('credentialParameter / credentialInQuery: one list, one matcher (server and SDK)', () => {
  it.each(CREDENTIAL_QUERY_NAMES)('%j is the credential parameter %s', (sent, canonical) => {
    expect(credentialParameter(sent)).toBe(canonical);
    expect(credentialInQuery(`/orders?page=2&${encodeURIComponent(sent)}=x`)).toBe(canonical);
  });

  it('lets look-alikes, values and fragments pass', () => {
    for (const name of HARMLESS_QUERY_NAMES) expect(credentialParameter(name), name).toBeUndefined();
    expect(credentialInQuery('/orders?q=api_key&page=token')).toBeUndefined();
    expect(credentialInQuery('/orders#api_key=x')).toBeUndefined();
    expect(credentialInQuery('/orders?page=1#api_key=x')).toBeUndefined();
    expect(credentialInQuery('/orders')).toBeUndefined();
    expect(credentialInQuery(undefined)).toBeUndefined();
  });

  it('reads percent-encoded names, and stays linear on hostile names', () => {
    expect(credentialInQuery('/orders?api%5Fkey%5B%5D=x')).toBe('api_key');
    expect(credentialInQuery('/orders?%41PI_KEY=x')).toBe('api_key');
    expect(credentialParameter('['.repeat(50_000) + 'x')).toBeUndefined();
    expect(credentialParameter('api_key' + '[]'.repeat(50_000))).toBe('api_key');
  });
});
