import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { clientKey, networkOf, parseClientKey } from '../src/core/detection/ip-address.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('POST /v1/leaked-keys refuses bad input and stays vague', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('needs keys:report_leaked', async () => {
    const other = await t.createKey({ scopes: ['keys:write'] });
    const response = await t.api('POST', '/v1/leaked-keys', { key: other.key, body: [{ token: 'x' }] });
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('insufficient_scope');
    expect((await t.api('POST', '/v1/leaked-keys', { key: null, body: [{ token: 'x' }] })).status).toBe(401);
  });

  it('answers 400 in the one error shape for malformed reports, and changes nothing', async () => {
    const victim = await t.createKey({ name: 'victim' });
    for (const body of [[], {}, [{}], [{ token: victim.key, extra: 1 }], [{ token: '' }], Array.from({ length: 101 }, () => ({ token: 'x' })), [{ token: victim.key, url: 'a\u0000b' }]]) {
      const response = await t.api('POST', '/v1/leaked-keys', { body });
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_request', error_description: expect.any(String), request_id: expect.any(String) });
      expect(JSON.stringify(response.body)).not.toContain(victim.key);
    }
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: victim.key } })).body.valid).toBe(true);
  });

  it("treats another tenant's key as unknown for a tenant's reporter, and leaves it alone", async () => {
    const reporter = await t.createKey({ scopes: ['keys:report_leaked'], tenantId: 'acme' });
    const foreign = await t.createKey({ tenantId: 'globex' });
    const response = await t.api('POST', '/v1/leaked-keys', { key: reporter.key, body: [{ token: foreign.key }] });
    expect(response.body.data).toEqual([{ index: 0, prefix: foreign.prefix, outcome: 'not_found', keyId: null }]);
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: foreign.key } })).body.valid).toBe(true);
  });

  it('looks up nothing for garbage (format or checksum wrong)', async () => {
    const real = generateApiKey('live').key;
    const tampered = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    const response = await t.api('POST', '/v1/leaked-keys', { body: [{ token: tampered }, { token: 'ghp_' + 'x'.repeat(36) }, { token: '<script>' }] });
    expect(response.status).toBe(200);
    expect(response.body.data.map((r: any) => r.outcome)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(response.body.data.every((r: any) => r.prefix === null)).toBe(true);
  });
});

describe('detection configuration', () => {
  const base = { GATEHOUSE_DATA_DIR: '/tmp/unused' };
  it('reads the defaults', () => {
    expect(loadConfig(base).detection).toEqual({
      enabled: true,
      alertThreshold: 10,
      blockThreshold: 100,
      windowSeconds: 60,
      blockSeconds: 900,
      allowList: [],
      learningSeconds: 7 * 86_400,
      rateSpikeFactor: 10,
      loginDelayMaxMs: 4000,
      unknownTokenLimit: 100,
    });
  });

  it('refuses bad values with every problem named', () => {
    try {
      loadConfig({
        ...base,
        GATEHOUSE_DETECTION: 'maybe',
        GATEHOUSE_DETECTION_ALERT_THRESHOLD: '50',
        GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '20',
        GATEHOUSE_DETECTION_ALLOW_LIST: '10.0.0.0/8, 10.0.0.0/33, not-a-network, 2001:db8::/48',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/GATEHOUSE_DETECTION must be on or off/);
      expect(problems).toMatch(/BLOCK_THRESHOLD must not be below/);
      expect(problems).toMatch(/"10.0.0.0\/33" is not/);
      expect(problems).toMatch(/"not-a-network" is not/);
      expect(problems).not.toMatch(/2001:db8/);
    }
  });
});

describe('client keys and networks (core/detection/ip-address.ts)', () => {
  it('keys an IPv4 client by its address and an IPv6 client by its /64, however the address is written', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8::/64');
    expect(clientKey('2001:db8:0:0:5::')).toBe('2001:db8::/64');
    expect(clientKey('2001:0:0:1::7')).toBe('2001:0:0:1::/64');
    expect(clientKey('::1')).toBe('::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b::/64');
    expect(networkOf('2001:db8:aa:bb::1')).toBe('2001:db8:aa::/48');
    expect(networkOf('203.0.113.7')).toBe('203.0.113.0/24');
  });

  it('reads what an operator names: an address, or an IPv6 /64, and nothing else', () => {
    expect(parseClientKey('2001:DB8:0::5')).toBe('2001:db8::/64');
    expect(parseClientKey('2001:db8:1:2::/64')).toBe('2001:db8:1:2::/64');
    expect(parseClientKey('2001:db8:1:2:3::/64')).toBe('2001:db8:1:2::/64');
    expect(parseClientKey('192.0.2.1')).toBe('192.0.2.1');
    for (const bad of ['192.0.2.1/64', '2001:db8::/48', '2001:db8::/64/64', 'nope', '']) expect(parseClientKey(bad), bad).toBeUndefined();
  });
});
