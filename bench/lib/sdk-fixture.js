// The Gatehouse the SDK scenarios authenticate against: a real `gatehouse start` child process (embedded
// SQLite, EdDSA signing) that issues one JWT access token (client_credentials) and one API key, holds a
// verifier key (keys:verify only) for the SDK, and serves the SDK's first verification, JWKS discovery and
// revocation stream.
import { join } from 'node:path';
import { generateApiKey } from '../../packages/server/dist/core/api-keys/key-format.js';
import { makeTempDir } from './processes.js';
import { startGatehouse } from './servers.js';

export const AUDIENCE = 'https://api.example.com';
export const SCOPE = 'read write';

async function call(url, { method = 'GET', headers = {}, body, expect = 200 } = {}) {
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${method} ${url} answered ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Resolves with { gatehouse (the process handle), issuer, audience, verifierKey, apiKey, accessToken, jwks }.
 * Stop it with `fixture.gatehouse.stop()` (also done by lib/processes.js on exit).
 */
export async function startSdkFixture() {
  const dataDir = join(makeTempDir('gatehouse-bench-sdk-'), 'data');
  const adminKey = generateApiKey('live').key;
  const gatehouse = await startGatehouse({ dataDir, adminKey, env: { GATEHOUSE_SIGNING_ALG: 'EdDSA' } });
  const issuer = gatehouse.url; // GATEHOUSE_ISSUER unset: http://127.0.0.1:<port>
  const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };

  const verifier = await call(`${issuer}/v1/keys`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'bench SDK verifier', scopes: ['keys:verify'] }),
    expect: 201,
  });
  // No rate limit: metered keys are verified on every use by design, never cached.
  const apiKey = await call(`${issuer}/v1/keys`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'bench SDK caller', scopes: SCOPE.split(' ') }),
    expect: 201,
  });
  const client = await call(`${issuer}/v1/clients`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({
      name: 'bench SDK client',
      grantTypes: ['client_credentials'],
      scopes: SCOPE.split(' '),
      tokenEndpointAuthMethod: 'client_secret_basic',
      audiences: [AUDIENCE],
    }),
    expect: 201,
  });
  const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
  const token = await call(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}&resource=${encodeURIComponent(AUDIENCE)}`,
  });
  const jwks = await call(`${issuer}/.well-known/jwks.json`);
  if (typeof verifier.key !== 'string' || typeof apiKey.key !== 'string' || typeof token.access_token !== 'string') {
    throw new Error('sdk fixture: Gatehouse did not return the keys and the token');
  }
  return { gatehouse, issuer, audience: AUDIENCE, verifierKey: verifier.key, apiKey: apiKey.key, accessToken: token.access_token, jwks };
}
