import { describe, expect, it } from 'vitest';
import { checkAllowedOriginRegistration } from '../src/core/oauth/allowed-origin.js';
import { decideCors, type CorsInput } from '../src/core/oauth/cors-decision.js';

const OWN = ['https://auth.example'];
const APP = 'https://app.example';
const OTHER = 'https://other.example';
const PREFLIGHT_POST = { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type, dpop', 'access-control-max-age': '600' };
const EXPOSE = { 'access-control-expose-headers': 'www-authenticate, retry-after' };

type Row = [name: string, input: Omit<CorsInput, 'ownOrigins' | 'methods'> & { methods?: string[] }, outcome: string, headers: Record<string, string>];

const rows: Row[] = [
  // Public endpoints (metadata, JWKS): the same answer for everyone, readable from any origin, no Vary.
  ['public, no Origin', { endpoint: 'public', preflight: false, origin: undefined }, 'same_origin', { 'access-control-allow-origin': '*', ...EXPOSE }],
  ['public, any origin', { endpoint: 'public', preflight: false, origin: OTHER }, 'allowed', { 'access-control-allow-origin': '*', ...EXPOSE }],
  ['public, preflight', { endpoint: 'public', preflight: true, origin: OTHER, methods: ['GET'] }, 'allowed', { 'access-control-allow-origin': '*', ...EXPOSE, ...PREFLIGHT_POST, 'access-control-allow-methods': 'GET' }],
  // Client endpoints: the answer depends on Origin (Vary), echoed only for the client's registered origins.
  ['client, no Origin (a server)', { endpoint: 'client', preflight: false, origin: undefined, clientOrigins: [APP] }, 'same_origin', { vary: 'Origin' }],
  ["client, Gatehouse's own origin", { endpoint: 'client', preflight: false, origin: OWN[0], clientOrigins: [] }, 'same_origin', { vary: 'Origin' }],
  ['client, registered origin', { endpoint: 'client', preflight: false, origin: APP, clientOrigins: [APP] }, 'allowed', { vary: 'Origin', 'access-control-allow-origin': APP, ...EXPOSE }],
  ["client, another client's origin", { endpoint: 'client', preflight: false, origin: OTHER, clientOrigins: [APP] }, 'refused', { vary: 'Origin' }],
  ['client, client not known (failed authentication)', { endpoint: 'client', preflight: false, origin: APP }, 'refused', { vary: 'Origin' }],
  ['client, near miss (trailing slash)', { endpoint: 'client', preflight: false, origin: `${APP}/`, clientOrigins: [APP] }, 'refused', { vary: 'Origin' }],
  ['client, near miss (case)', { endpoint: 'client', preflight: false, origin: 'https://APP.example', clientOrigins: [APP] }, 'refused', { vary: 'Origin' }],
  ['client, Origin null (sandboxed page)', { endpoint: 'client', preflight: false, origin: 'null', clientOrigins: [APP] }, 'refused', { vary: 'Origin' }],
  // Preflights carry no credentials: approved for any origin that could be registered; the actual request decides.
  ['client preflight, any registrable origin', { endpoint: 'client', preflight: true, origin: OTHER }, 'allowed', { vary: 'Origin', 'access-control-allow-origin': OTHER, ...PREFLIGHT_POST }],
  ['client preflight, loopback http', { endpoint: 'client', preflight: true, origin: 'http://127.0.0.1:5173' }, 'allowed', { vary: 'Origin', 'access-control-allow-origin': 'http://127.0.0.1:5173', ...PREFLIGHT_POST }],
  ['client preflight, Origin null', { endpoint: 'client', preflight: true, origin: 'null' }, 'refused', { vary: 'Origin' }],
  ['client preflight, plain http', { endpoint: 'client', preflight: true, origin: 'http://evil.example' }, 'refused', { vary: 'Origin' }],
  ['client preflight, no Origin', { endpoint: 'client', preflight: true, origin: undefined }, 'same_origin', { vary: 'Origin' }],
];

describe('decideCors', () => {
  it.each(rows)('%s', (_name, input, outcome, headers) => {
    const decision = decideCors({ methods: ['POST'], ownOrigins: OWN, ...input });
    expect(decision).toStrictEqual({ outcome, headers });
    // Never credentials: the token endpoints use no cookies.
    expect(decision.headers).not.toHaveProperty('access-control-allow-credentials');
  });
});

describe('checkAllowedOriginRegistration', () => {
  it.each([
    'https://app.example',
    'https://app.example:8443',
    'https://xn--bcher-kva.example',
    'http://127.0.0.1',
    'http://127.0.0.1:5173',
    'http://[::1]:3000',
    'http://localhost:5173',
  ])('accepts %s', (origin) => {
    expect(checkAllowedOriginRegistration(origin)).toStrictEqual({ ok: true });
  });

  it.each([
    ['', /empty/],
    ['https://app.example/', /did you mean https:\/\/app.example\?/],
    ['https://app.example/path', /no path/],
    ['https://app.example?x=1', /did you mean/],
    ['https://app.example#f', /did you mean/],
    ['https://APP.example', /lowercase/],
    ['https://app.example:443', /no default port/],
    ['https://user@app.example', /user info/],
    ['https://*.example', /wildcards/],
    ['http://app.example', /only allowed on loopback/],
    ['http://localhost.example.com:3000', /only allowed on loopback/],
    ['ftp://app.example', /scheme must be https/],
    ['null', /not an origin/],
    ['app.example', /not an origin/],
    ['https://bücher.example', /non-ASCII/],
    [`https://${'a'.repeat(300)}.example`, /longer than/],
  ])('refuses %j', (origin, reason) => {
    const check = checkAllowedOriginRegistration(origin);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(reason);
  });
});
