import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { API_KEY_LENGTH, API_KEY_MAX_LENGTH, apiKeyChecksum, apiKeyPrefixProblem, findApiKeys, isApiKey, parseApiKey } from '../src/index.js';
import { crc32 } from '../src/crc32.js';

const BODY = 'sk_live_' + 'A1b2C3d4E5'.repeat(4) + 'xyz';
const KEY = BODY + apiKeyChecksum(BODY);

describe('API key format', () => {
  it('our CRC-32 matches zlib', () => {
    for (const text of ['', 'a', BODY, 'sk_test_0000', 'The quick brown fox']) expect(crc32(text)).toBe(zlibCrc32(text));
  });

  it('recognises a well-formed key and gives its environment and display prefix', () => {
    expect(KEY).toHaveLength(API_KEY_LENGTH);
    expect(parseApiKey(KEY)).toEqual({ ok: true, prefix: 'sk', environment: 'live', displayPrefix: 'sk_live_A1b2C3' });
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

  describe('a deployment prefix (GATEHOUSE_KEY_PREFIX)', () => {
    const RANDOM = BODY.slice('sk_live_'.length);
    const keyWith = (prefix: string, environment = 'live') => {
      const body = `${prefix}_${environment}_${RANDOM}`;
      return body + apiKeyChecksum(body);
    };

    it('accepts keys of any well-formed prefix, with the prefix and a display prefix of its own', () => {
      expect(parseApiKey(keyWith('acme'))).toEqual({ ok: true, prefix: 'acme', environment: 'live', displayPrefix: 'acme_live_A1b2C3' });
      expect(parseApiKey(keyWith('gh2', 'test'))).toEqual({ ok: true, prefix: 'gh2', environment: 'test', displayPrefix: 'gh2_test_A1b2C3' });
      const longest = keyWith('a'.repeat(16));
      expect(longest).toHaveLength(API_KEY_MAX_LENGTH);
      expect(isApiKey(longest)).toBe(true);
    });

    it('binds the checksum to the prefix: the same random part under another prefix fails', () => {
      const acme = keyWith('acme');
      expect(isApiKey(`sk${acme.slice('acme'.length)}`)).toBe(false);
      expect(isApiKey(`acmf${acme.slice('acme'.length)}`)).toBe(false);
    });

    it('refuses prefixes that are not 2 to 16 lowercase letters and digits starting with a letter, or are an environment', () => {
      for (const good of ['sk', 'acme', 'a1', 'x'.repeat(16)]) expect(apiKeyPrefixProblem(good), good).toBeUndefined();
      for (const bad of ['', 'a', '1ab', 'Acme', 'ac_me', 'ac-me', 'acme ', 'x'.repeat(17), 'live', 'test', 'ümlaut']) {
        expect(apiKeyPrefixProblem(bad), bad).toMatch(/key prefix/);
      }
    });

    it('rejects a checksum-valid key whose prefix is not well-formed', () => {
      for (const prefix of ['live', 'test', 'Acme', '1ab', 'a', 'x'.repeat(17)]) expect(isApiKey(keyWith(prefix)), prefix).toBe(false);
      // An underscore in the prefix would make `<prefix>_<environment>_` ambiguous.
      expect(isApiKey(keyWith('my_acme'))).toBe(false);
    });

    it('finds keys of every prefix in text, each as a whole', () => {
      const acme = keyWith('acme');
      const other = keyWith('zz9', 'test');
      const text = `a=${acme} b=${KEY} c=${other} d=x_${keyWith('acme')} e=${acme.slice(0, -1)}0`;
      expect(findApiKeys(text)).toEqual([acme, KEY, other]);
    });
  });
});
