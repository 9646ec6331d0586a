import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createAuditEvent } from '../src/core/audit/audit-event.js';
import type { AlertInput, Alerts } from '../src/core/detection/alerts.js';
import { CredentialAnomalies } from '../src/core/detection/credential-anomalies.js';
import type { CredentialProfileStore } from '../src/storage/stores.js';
import { createPgSchema, dialects } from './helpers/databases.js';
import { testDatabaseUrl } from './helpers/env.js';
import { basicAuth } from './helpers/oauth.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Compromised-key anomaly detection (new network, rate spike, rotated-out key) and its automatic action.

const HOUR = 3_600_000;
const MINUTE = 60_000;
const LEARNING = { GATEHOUSE_DETECTION_LEARNING_SECONDS: '3600' };

async function verify(t: TestApp, key: string, clientIp: string) {
  const response = await t.api('POST', '/v1/keys/verify', { body: { key, clientIp } });
  expect(response.status).toBe(200);
  return response.body;
}

async function anomalies(t: TestApp) {
  await t.services.detection.settled();
  return t.services.stores.audit.list({ type: 'alert.key_anomaly', limit: 100 });
}

describe.each(dialects)('key anomalies (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect, env: LEARNING });
  });
  afterAll(() => t.close());

  it('after the learning period, a key used from a network it never used raises alert.key_anomaly', async () => {
    const key = await t.createKey({ name: 'worker' });
    await verify(t, key.key, '203.0.113.10');
    // During learning, a second network is just learned.
    await verify(t, key.key, '2001:db8:aa:1::1');
    t.clock.advance(2 * HOUR);
    await verify(t, key.key, '203.0.113.200');
    await verify(t, key.key, '2001:db8:aa:ffff::2');
    expect(await anomalies(t)).toEqual([]);

    const response = await verify(t, key.key, '198.51.100.7');
    expect(response.valid).toBe(true);
    const [alert, ...rest] = await anomalies(t);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      type: 'alert.key_anomaly',
      reason: 'new_network',
      keyId: key.id,
      keyPrefix: key.prefix,
      ip: '198.51.100.7',
      details: { credentialId: key.id, network: '198.51.100.0/24', knownNetworks: 2, count: 1 },
    });
    // Learned now: no second alert for that network.
    await verify(t, key.key, '198.51.100.8');
    expect(await anomalies(t)).toHaveLength(1);
    // The profile is written behind, with every network.
    await t.services.detection.anomalies!.flush();
    const stored = (await t.services.stores.credentialProfiles.loadAll()).find((p) => p.credentialId === key.id);
    expect(stored?.networks.sort()).toEqual(['198.51.100.0/24', '2001:db8:aa::/48', '203.0.113.0/24']);
  });

  it('still alerts on a new network when the profile is written behind while the store is being asked', async () => {
    const stored = t.services.stores.credentialProfiles;
    const raised: AlertInput[] = [];
    let anomalies: CredentialAnomalies | undefined;
    // A flush of the learned profiles lands between seeing the network and asking the store about it.
    const store: CredentialProfileStore = {
      loadAll: () => stored.loadAll(),
      save: (profiles) => stored.save(profiles),
      hasNetwork: async (id, network) => {
        await anomalies!.flush();
        return stored.hasNetwork(id, network);
      },
    };
    anomalies = await CredentialAnomalies.open({
      store,
      alerts: { raise: (input: AlertInput) => void raised.push(input) } as unknown as Alerts,
      clock: t.clock,
      learningSeconds: 60,
      rateSpikeFactor: 1000,
      act: async () => {},
      onError: (message, error) => {
        throw new Error(message, { cause: error });
      },
    });
    try {
      const use = (ip: string) =>
        anomalies!.observe(createAuditEvent(t.clock.now(), { type: 'key.verification', outcome: 'success', keyId: `key_race${dialect}`, ip }));
      use('203.0.113.10');
      t.clock.advance(2 * MINUTE);
      use('198.51.100.7');
      await anomalies.settled();
      expect(raised.map((alert) => alert.reason)).toEqual(['new_network']);
      // And the network is learned (written) all the same.
      await anomalies.flush();
      expect(await stored.hasNetwork(`key_race${dialect}`, '198.51.100.0/24')).toBe(true);
    } finally {
      await anomalies.stop();
    }
  });

  it('raises an alert when the request rate jumps past 10x its baseline', async () => {
    const key = await t.createKey({ name: 'steady' });
    const before = (await anomalies(t)).length;
    for (let minute = 0; minute < 70; minute++) {
      for (let i = 0; i < 5; i++) await verify(t, key.key, '203.0.113.10');
      t.clock.advance(MINUTE);
    }
    expect(await anomalies(t)).toHaveLength(before);
    for (let i = 0; i < 80; i++) await verify(t, key.key, '203.0.113.10');
    const [spike] = await anomalies(t);
    expect(spike).toMatchObject({ reason: 'rate_spike', keyId: key.id, details: { factor: 10, requestsThisMinute: 61 } });
    expect(spike!.details!.baselinePerMinute).toBeGreaterThan(3);
  });

  it('raises an alert when a rotated-out key is used after its grace period', async () => {
    const key = await t.createKey({ name: 'rotating' });
    const rotated = await t.api('POST', `/v1/keys/${key.id}/rotate`, { body: { gracePeriodSeconds: 60 } });
    expect(rotated.status).toBe(200);
    expect((await verify(t, key.key, '203.0.113.10')).valid).toBe(true);
    t.clock.advance(61_000);
    expect((await verify(t, key.key, '203.0.113.10')).code).toBe('EXPIRED');
    const [alert] = await anomalies(t);
    expect(alert).toMatchObject({ reason: 'rotated_key_used', keyId: key.id, details: { rotatedToId: rotated.body.id } });
  });

  it("revokes a key whose anomalyAction is 'revoke', recording why", async () => {
    const key = await t.createKey({ name: 'strict', anomalyAction: 'revoke' });
    expect(key.anomalyAction).toBe('revoke');
    await verify(t, key.key, '203.0.113.10');
    t.clock.advance(2 * HOUR);
    expect((await verify(t, key.key, '192.0.2.77')).valid).toBe(true);
    await t.services.detection.settled();
    expect((await verify(t, key.key, '203.0.113.10')).code).toBe('REVOKED');
    const [revoked] = await t.services.stores.audit.list({ type: 'key.revoked', keyId: key.id, limit: 1 });
    expect(revoked).toMatchObject({ actorKeyId: null, details: { cause: 'anomaly', anomaly: 'new_network' } });
    // The default is notify: a key left alone is only reported.
    const lenient = await t.createKey({ name: 'lenient' });
    expect(lenient.anomalyAction).toBe('notify');
    await verify(t, lenient.key, '203.0.113.10');
    t.clock.advance(2 * HOUR);
    await verify(t, lenient.key, '192.0.2.77');
    await t.services.detection.settled();
    expect((await verify(t, lenient.key, '203.0.113.10')).valid).toBe(true);
  });

  it('anomalyAction is shown in the key view and can be changed with PATCH', async () => {
    const key = await t.createKey({ name: 'patchable' });
    const patched = await t.api('PATCH', `/v1/keys/${key.id}`, { body: { anomalyAction: 'revoke' } });
    expect(patched.status).toBe(200);
    expect(patched.body.anomalyAction).toBe('revoke');
    expect((await t.api('GET', `/v1/keys/${key.id}`)).body.anomalyAction).toBe('revoke');
    const bad = await t.api('PATCH', `/v1/keys/${key.id}`, { body: { anomalyAction: 'ignore' } });
    expect(bad.status).toBe(400);
  });
});

describe.each(dialects)('POST /v1/leaked-keys (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  it('revokes a reported live key, alerts its tenant, and answers per token without echoing it', async () => {
    const reporter = await t.createKey({ name: 'scanner', scopes: ['keys:report_leaked'] });
    const leaked = await t.createKey({ name: 'leaky', tenantId: 'acme' });
    const dead = await t.createKey({ name: 'dead' });
    await t.api('POST', `/v1/keys/${dead.id}/revoke`);
    const unknown = generateApiKey('test').key;
    const response = await t.api('POST', '/v1/leaked-keys', {
      key: reporter.key,
      body: [
        { token: leaked.key, type: 'gatehouse_api_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content' },
        { token: dead.key },
        { token: unknown },
        { token: 'sk_live_notarealkeyatall' },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual([
      { index: 0, prefix: leaked.prefix, outcome: 'revoked', keyId: leaked.id },
      { index: 1, prefix: dead.prefix, outcome: 'already_inactive', keyId: dead.id },
      { index: 2, prefix: unknown.slice(0, leaked.prefix.length), outcome: 'not_found', keyId: null },
      { index: 3, prefix: null, outcome: 'invalid', keyId: null },
    ]);
    for (const token of [leaked.key, dead.key, unknown]) expect(JSON.stringify(response.body)).not.toContain(token);
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: leaked.key } })).body.code).toBe('REVOKED');

    await t.services.detection.settled();
    const alerts = await t.services.stores.audit.list({ type: 'alert.key_leaked', limit: 10 });
    expect(alerts.map((a) => [a.keyId, a.tenantId, a.reason])).toEqual(
      expect.arrayContaining([
        [leaked.id, 'acme', 'revoked'],
        [dead.id, null, 'already_inactive'],
      ]),
    );
    expect(alerts.find((a) => a.keyId === leaked.id)?.details).toMatchObject({ url: 'https://github.com/acme/app/blob/main/.env', source: 'content', reportedBy: reporter.id });
    const [revoked] = await t.services.stores.audit.list({ type: 'key.revoked', keyId: leaked.id, limit: 1 });
    expect(revoked).toMatchObject({ actorKeyId: reporter.id, details: { cause: 'leaked', source: 'content' } });
    expect(JSON.stringify(await t.services.stores.audit.list({ limit: 1000 }))).not.toContain(leaked.key);
  });
});

describe('OAuth client anomalies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: LEARNING });
  });
  afterAll(() => t.close());

  const token = async (clientId: string, secret: string, ip: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: ip,
      headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials',
    });

  it('learns where a client gets tokens from, and reports a new network and a replaced secret used too late', async () => {
    const created = await t.api('POST', '/v1/clients', {
      body: { name: 'backend', grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic' },
    });
    const { clientId, clientSecret } = created.body;
    expect((await token(clientId, clientSecret, '203.0.113.10')).statusCode).toBe(200);
    t.clock.advance(2 * HOUR);
    expect((await token(clientId, clientSecret, '198.51.100.3')).statusCode).toBe(200);
    const [alert] = await anomalies(t);
    expect(alert).toMatchObject({ reason: 'new_network', keyId: null, details: { credentialId: clientId, network: '198.51.100.0/24' } });

    await t.api('POST', `/v1/clients/${clientId}/secret/rotate`, { body: { gracePeriodSeconds: 60 } });
    t.clock.advance(61_000);
    expect((await token(clientId, clientSecret, '203.0.113.10')).statusCode).toBe(401);
    const [late] = await anomalies(t);
    expect(late).toMatchObject({ reason: 'rotated_key_used', details: { credentialId: clientId } });
  });
});

describe.skipIf(!testDatabaseUrl)('learned profiles survive a restart', () => {
  it('a restarted process remembers the networks, and still spots a new one', async () => {
    const schema = await createPgSchema();
    const first = await createTestApp({ dialect: 'postgres', pgSchema: schema, env: LEARNING });
    let second: TestApp | undefined;
    try {
      const key = await first.createKey({ name: 'durable' });
      await verify(first, key.key, '203.0.113.10');
      await first.close();
      second = await createTestApp({ dialect: 'postgres', pgSchema: schema, env: LEARNING, rootKey: first.rootKey });
      second.clock.advance(2 * HOUR);
      await verify(second, key.key, '203.0.113.11');
      expect(await anomalies(second)).toEqual([]);
      await verify(second, key.key, '198.51.100.3');
      expect((await anomalies(second)).map((a) => a.reason)).toEqual(['new_network']);
    } finally {
      await second?.close();
      await schema.drop();
    }
  });
});

describe('GATEHOUSE_DETECTION=off', () => {
  it('tracks nothing: no alerts, no blocks, no anomalies', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_DETECTION: 'off', GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '2', GATEHOUSE_DETECTION_ALERT_THRESHOLD: '1' } });
    try {
      expect(t.services.detection.anomalies).toBeUndefined();
      for (let i = 0; i < 5; i++) {
        await t.app.inject({ method: 'GET', url: '/v1/keys', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${generateApiKey('live').key}` } });
      }
      await t.services.detection.settled();
      const ok = await t.app.inject({ method: 'GET', url: '/v1/keys', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${t.rootKey}` } });
      expect(ok.statusCode).toBe(200);
      expect(await t.services.stores.audit.list({ type: 'alert.credential_stuffing', limit: 10 })).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
