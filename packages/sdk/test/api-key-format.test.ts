import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { API_KEY_LENGTH, apiKeyChecksum, findApiKeys, isApiKey, parseApiKey } from '../src/index.js';
import { crc32 } from '../src/crc32.js';

const BODY = 'sk_live_' + 'A1b2C3d4E5'.repeat(4) + 'xyz';
const KEY = BODY + apiKeyChecksum(BODY);

describe('API key format', () => {
  it('our CRC-32 matches zlib', () => {
    for (const text of ['', 'a', BODY, 'sk_test_0000', 'The quick brown fox']) expect(crc32(text)).toBe(zlibCrc32(text));
  });

  it('recognises a well-formed key and gives its environment and display prefix', () => {
    expect(KEY).toHaveLength(API_KEY_LENGTH);
    expect(parseApiKey(KEY)).toEqual({ ok: true, environment: 'live', displayPrefix: 'sk_live_A1b2C3' });
    const test = 'sk_test_' + BODY.slice(8);
    expect(parseApiKey(test + apiKeyChecksum(test))).toMatchObject({ ok: true, environment: 'test' });
  });

  it('rejects every single-character change (the checksum catches typos offline)', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let variants = 0;
    for (let i = 8; i < KEY.length; i++) {
      for (const c of alphabet) {
        if (c === KEY[i]) continue;
        variants++;
        expect(isApiKey(KEY.slice(0, i) + c + KEY.slice(i + 1))).toBe(false);
      }
    }
    expect(variants).toBe(49 * 61);
  });

  it('binds the checksum to the environment: swapping the prefix fails', () => {
    expect(isApiKey('sk_test_' + KEY.slice(8))).toBe(false);
  });

  it('rejects wrong shapes without regard to length', () => {
    for (const bad of ['', 'sk_live_', KEY + 'a', KEY.slice(0, -1), KEY.replace('sk_live_', 'pk_live_'), ` ${KEY.slice(1)}`, 'x'.repeat(10_000)]) {
      expect(isApiKey(bad)).toBe(false);
    }
    expect(isApiKey(KEY.slice(0, 20) + '-' + KEY.slice(21))).toBe(false);
    expect(isApiKey(undefined as unknown as string)).toBe(false);
  });

  it('finds keys in text, ignoring checksum-failing look-alikes', () => {
    const lookAlike = KEY.slice(0, -1) + (KEY.endsWith('a') ? 'b' : 'a');
    const text = `config:\n  token: "${KEY}"\n  other: ${lookAlike}\n  embedded: x${KEY}x\n`;
    expect(findApiKeys(text)).toEqual([KEY]);
  });
});
