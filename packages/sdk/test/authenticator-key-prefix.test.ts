import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { generateApiKey } from '../../server/src/core/api-keys/key-format.js';
import { apiKeyChecksum, createAuthenticator, type Authenticator } from '../src/index.js';
import { startGatehouseFront, type GatehouseFront } from './helpers/gatehouse-front.js';

/** The authenticator in front of a deployment with its own key prefix (GATEHOUSE_KEY_PREFIX=acme). */
let t: OAuthTestApp;
let front: GatehouseFront;
let authenticator: Authenticator;
const oldRootKey = generateApiKey('live').key;

beforeAll(async () => {
  t = await createOAuthTestApp({ rootKey: oldRootKey, env: { GATEHOUSE_KEY_PREFIX: 'acme' } });
  front = await startGatehouseFront(t.issuer);
  const verifier = await t.createKey({ name: 'verifier', scopes: ['keys:verify'] });
  expect(verifier.key).toMatch(/^acme_live_/);
  // No option names the prefix: the SDK accepts a key of any well-formed prefix, the server decides.
  authenticator = createAuthenticator({ issuer: t.issuer, audience: 'https://api.example', gatehouseUrl: front.url, verifierKey: verifier.key, revocationStream: false });
});

afterAll(async () => {
  authenticator?.close();
  await front?.close();
  await t?.close();
});

describe('authenticator with a deployment key prefix', () => {
  it('verifies the deployment keys and keys of the earlier sk prefix', async () => {
    const caller = await t.createKey({ name: 'caller', scopes: ['invoices:read'] });
    expect(caller.key).toMatch(/^acme_live_/);
    const result = await authenticator.authenticate(`Bearer ${caller.key}`, { scopes: ['invoices:read'] });
    expect(result).toMatchObject({ ok: true, auth: { kind: 'api_key', keyId: caller.id, scopes: ['invoices:read'] } });
    // The root key was issued as sk_live_... (here: bootstrapped): it still verifies.
    expect(oldRootKey).toMatch(/^sk_live_/);
    expect(await authenticator.authenticate(`Bearer ${oldRootKey}`)).toMatchObject({ ok: true, auth: { keyId: expect.stringMatching(/^key_/) } });
  });

  it('denies a look-alike of the deployment prefix offline, without asking the server', async () => {
    const body = `acme_live_${'Q'.repeat(43)}`;
    const lookAlike = body + (apiKeyChecksum(body) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA');
    const before = front.verifyCalls;
    expect(await authenticator.authenticate(`Bearer ${lookAlike}`)).toMatchObject({ ok: false, code: 'invalid_token', status: 401 });
    expect(front.verifyCalls).toBe(before);
  });
});
