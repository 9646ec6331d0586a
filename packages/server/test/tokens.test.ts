import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/core/tokens/access-token.js';
import { signJwsInput, signJwt } from '../src/core/tokens/sign-jwt.js';
import { INVALID_UTF8, jsonWithBytes } from '../../sdk/test/helpers/protocol-cases.js';
import { SIGNING_ALGS, type SigningAlg } from '../src/core/tokens/signing-alg.js';
import type { SigningKeys } from '../src/core/tokens/signing-keys.js';
import { verifyAccessToken } from '../src/core/tokens/verify-access-token.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://api.example.com';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function issue(keys: SigningKeys, now: number, overrides: Partial<Parameters<typeof issueAccessToken>[1]> = {}) {
  return issueAccessToken(keys.current(), {
    issuer: ISSUER,
    subject: 'usr_1',
    audience: AUDIENCE,
    clientId: 'cli_1',
    scope: 'orders:read orders:write',
    ttlSeconds: 900,
    now,
    ...overrides,
  });
}

describe.each(SIGNING_ALGS)('%s access tokens, served JWKS, jose as the verifier', (alg: SigningAlg) => {
  let t: TestApp;
  let jwksUrl: URL;

  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_SIGNING_ALG: alg } });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    jwksUrl = new URL('/.well-known/jwks.json', address);
  });
  afterAll(() => t.close());

  it('issues RFC 9068 tokens that jose verifies against the JWKS fetched over HTTP', async () => {
    const now = t.clock.now();
    const issued = await issue(t.services.signingKeys, now, { tenantId: 'acme', extraClaims: { auth_time: 1_700_000_000, cnf: { 'x5t#S256': 'abc' } } });
    const { payload, protectedHeader } = await jwtVerify(issued.token, createRemoteJWKSet(jwksUrl), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: [alg],
      currentDate: new Date(now),
    });
    expect(protectedHeader).toStrictEqual({ alg, typ: 'at+jwt', kid: t.services.signingKeys.current().kid });
    const iat = Math.floor(now / 1000);
    expect(payload).toStrictEqual({
      iss: ISSUER,
      sub: 'usr_1',
      aud: AUDIENCE,
      exp: iat + 900,
      iat,
      jti: issued.jti,
      client_id: 'cli_1',
      scope: 'orders:read orders:write',
      tenant_id: 'acme',
      auth_time: 1_700_000_000,
      cnf: { 'x5t#S256': 'abc' },
    });
    expect(issued.expiresAt).toBe((iat + 900) * 1000);
    expect(issued.claims).toStrictEqual(payload);
    expect(verifyAccessToken(issued.token, { keys: t.services.signingKeys, issuer: ISSUER, now })).toStrictEqual(payload);
  });

  it('leaves tenant_id out when there is none, takes an audience list, and gives each token its own jti', async () => {
    const now = t.clock.now();
    const a = await issue(t.services.signingKeys, now, { tenantId: null, audience: [AUDIENCE, 'https://other.example.com'] });
    const b = await issue(t.services.signingKeys, now);
    expect(a.claims).not.toHaveProperty('tenant_id');
    expect(a.jti).not.toBe(b.jti);
    const { payload } = await jwtVerify(a.token, createRemoteJWKSet(jwksUrl), { issuer: ISSUER, audience: 'https://other.example.com', typ: 'at+jwt', currentDate: new Date(now) });
    expect(payload.aud).toEqual([AUDIENCE, 'https://other.example.com']);
  });

  it('a rotated key is fetched by jose from the served JWKS, and the old key still verifies', async () => {
    const keys = t.services.signingKeys;
    const oldToken = (await issue(keys, t.clock.now())).token;
    const rotated = await keys.rotate({ activateAfterSeconds: 30 });
    expect((await issue(keys, t.clock.now())).token).not.toContain(b64({ alg, typ: 'at+jwt', kid: rotated.kid }));
    t.clock.advance(30_000);
    const newToken = (await issue(keys, t.clock.now())).token;
    expect(decodeProtectedHeader(newToken).kid).toBe(rotated.kid);
    const jwks = createRemoteJWKSet(jwksUrl);
    for (const jwt of [oldToken, newToken]) {
      await expect(jwtVerify(jwt, jwks, { issuer: ISSUER, typ: 'at+jwt', currentDate: new Date(t.clock.now()) })).resolves.toBeTruthy();
    }
  });
});

describe('signJwt and issueAccessToken refuse misuse', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('throws on a bad TTL, an empty audience, or extra claims that would replace registered ones', async () => {
    const keys = t.services.signingKeys;
    await expect(issue(keys, 0, { ttlSeconds: 0 })).rejects.toThrow(TypeError);
    await expect(issue(keys, 0, { ttlSeconds: 1.5 })).rejects.toThrow(TypeError);
    await expect(issue(keys, 0, { audience: [] })).rejects.toThrow(TypeError);
    await expect(issue(keys, 0, { extraClaims: { sub: 'admin' } })).rejects.toThrow(/sub/);
    await expect(issue(keys, 0, { extraClaims: { exp: 9e9 } })).rejects.toThrow(/exp/);
  });

  it('signJwt writes exactly {alg, typ, kid}, base64url without padding', async () => {
    const key = t.services.signingKeys.current();
    const jwt = await signJwt(key, { a: 1 }, 'JWT');
    expect(jwt).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())).toStrictEqual({ alg: key.alg, typ: 'JWT', kid: key.kid });
    expect((await signJwt(key, { a: 1 }, 'at+jwt')).split('.')[0]).toBe(b64({ alg: key.alg, typ: 'at+jwt', kid: key.kid }));
  });
});

describe('verifyAccessToken: attacks and invalid tokens', () => {
  let t: TestApp;
  let keys: SigningKeys;
  let now: number;
  /** kid -> key of each algorithm, all published. */
  const byAlg = new Map<SigningAlg, { kid: string }>();

  beforeAll(async () => {
    t = await createTestApp();
    keys = t.services.signingKeys;
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      t.clock.advance(1000);
      const info = await keys.rotate({ alg, activateAfterSeconds: 0 });
      byAlg.set(alg, info);
    }
    now = t.clock.now();
  });
  afterAll(() => t.close());

  const verify = (token: string, at = now, issuer = ISSUER) => verifyAccessToken(token, { keys, issuer, now: at });
  /** The claims of a genuine token (issued once; each use gets its own copy). */
  let genuine: Record<string, unknown>;
  beforeAll(async () => {
    genuine = (await issue(keys, now)).claims;
  });
  const claims = () => ({ ...genuine });
  /** A token with the given header and claims, signed by `signer` over the usual input. */
  const forge = (header: Record<string, unknown>, payload: object, signer: (input: Buffer) => Buffer) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
  };

  it('accepts a genuine token (the baseline for every case below)', async () => {
    expect(verify((await issue(keys, now)).token)).toMatchObject({ sub: 'usr_1' });
  });

  it('rejects alg none, with or without a signature', async () => {
    const kid = keys.current().kid;
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, typ: 'at+jwt', kid })}.${b64(claims())}.`;
      expect(verify(unsigned)).toBeUndefined();
      expect(verify(`${unsigned}${b64('sig')}`)).toBeUndefined();
    }
  });

  it('rejects HS256 (and HS384/HS512) signed with the public key, as PEM or as JWK', async () => {
    for (const kid of [byAlg.get('RS256')!.kid, byAlg.get('EdDSA')!.kid, byAlg.get('ES256')!.kid]) {
      const publicKey = keys.publicKey(kid)!.publicKey;
      const secrets = [
        String(publicKey.export({ format: 'pem', type: 'spki' })),
        JSON.stringify(keys.jwks().keys.find((k) => k.kid === kid)),
        publicKey.export({ format: 'der', type: 'spki' }),
      ];
      for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
        for (const secret of secrets) {
          const token = forge({ alg, typ: 'at+jwt', kid }, claims(), (input) => createHmac(hash, secret).update(input).digest());
          expect(verify(token)).toBeUndefined();
        }
      }
    }
  });

  it('rejects a tampered signature, payload or header', async () => {
    const token = (await issue(keys, now)).token;
    const [h, p, s] = token.split('.') as [string, string, string];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    expect(verify(`${h}.${p}.${flip(s, 5)}`)).toBeUndefined();
    expect(verify(`${h}.${p}.${flip(s, s.length - 1)}`)).toBeUndefined();
    expect(verify(`${h}.${p}.${s.slice(0, -2)}`)).toBeUndefined();
    expect(verify(`${h}.${p}.`)).toBeUndefined();
    expect(verify(`${h}.${b64({ ...claims(), scope: 'admin' })}.${s}`)).toBeUndefined();
    expect(verify(`${h}.${flip(p, 10)}.${s}`)).toBeUndefined();
    expect(verify(`${b64({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), extra: 1 })}.${p}.${s}`)).toBeUndefined();
  });

  it('rejects an unknown kid, a missing kid, and a token signed by a key that is not ours', async () => {
    const stranger = generateKeyPairSync('ed25519');
    const payload = claims();
    expect(verify(forge({ alg: 'EdDSA', typ: 'at+jwt', kid: 'sig_unknown' }, payload, (i) => sign(null, i, stranger.privateKey)))).toBeUndefined();
    expect(verify(forge({ alg: 'EdDSA', typ: 'at+jwt' }, payload, (i) => sign(null, i, stranger.privateKey)))).toBeUndefined();
    // Our kid, a stranger's signature.
    expect(verify(forge({ alg: 'EdDSA', typ: 'at+jwt', kid: byAlg.get('EdDSA')!.kid }, payload, (i) => sign(null, i, stranger.privateKey)))).toBeUndefined();
    // A key embedded in the header is never trusted.
    const jwk = stranger.publicKey.export({ format: 'jwk' });
    expect(verify(forge({ alg: 'EdDSA', typ: 'at+jwt', kid: byAlg.get('EdDSA')!.kid, jwk }, payload, (i) => sign(null, i, stranger.privateKey)))).toBeUndefined();
  });

  it('rejects a header alg that differs from the key’s alg, even when the signature is right for the header alg', async () => {
    const signer = keys.current(); // EdDSA
    const payload = claims();
    // The genuine EdDSA signature, relabelled.
    for (const alg of ['ES256', 'RS256', 'EdDSA']) {
      for (const kid of [byAlg.get('ES256')!.kid, byAlg.get('RS256')!.kid]) {
        const token = forge({ alg, typ: 'at+jwt', kid }, payload, (i) => sign(null, i, signer.privateKey));
        expect(verify(token), `${alg} ${kid}`).toBeUndefined();
      }
    }
    expect(verify(forge({ alg: 'PS256', typ: 'at+jwt', kid: byAlg.get('RS256')!.kid }, payload, (i) => sign(null, i, signer.privateKey)))).toBeUndefined();
  });

  it('rejects a wrong or missing typ', async () => {
    const signer = keys.current();
    for (const typ of ['JWT', 'jwt', 'application/jwt', 'id_token+jwt', undefined]) {
      const token = await signJwt(signer, claims(), typ as string);
      expect(verify(token), String(typ)).toBeUndefined();
    }
    expect(verify(await signJwt(signer, claims(), 'application/at+jwt'))).toBeDefined();
  });

  it('rejects a wrong issuer (byte for byte: no trailing-slash or case leniency)', async () => {
    const token = (await issue(keys, now)).token;
    for (const issuer of ['https://evil.example.com', `${ISSUER}/`, 'https://AUTH.example.com', 'http://auth.example.com']) {
      expect(verify(token, now, issuer)).toBeUndefined();
    }
    expect(verify((await issue(keys, now, { issuer: `${ISSUER}/` })).token)).toBeUndefined();
  });

  it('judges exp, nbf and iat by the SDK\'s clock-skew policy: 60 s either way, not a second more', async () => {
    const issued = await issue(keys, now, { ttlSeconds: 60 });
    expect(verify(issued.token, issued.expiresAt + 59_999)).toBeDefined();
    expect(verify(issued.token, issued.expiresAt + 60_000)).toBeUndefined();
    expect(verify(issued.token, issued.expiresAt + 3600_000)).toBeUndefined();
    // Minted by a process whose clock runs ahead.
    const iat = Math.floor(now / 1000);
    const ahead = await issue(keys, now);
    expect(verify(ahead.token, (iat - 60) * 1000)).toBeDefined();
    expect(verify(ahead.token, (iat - 61) * 1000)).toBeUndefined();
    const future = await issue(keys, now + 3600_000);
    expect(verify(future.token, now)).toBeUndefined();
    const signer = keys.current();
    expect(verify(await signJwt(signer, { ...claims(), nbf: iat + 60 }, 'at+jwt'))).toBeDefined();
    expect(verify(await signJwt(signer, { ...claims(), nbf: iat + 61 }, 'at+jwt'))).toBeUndefined();
  });

  it.each(INVALID_UTF8)('rejects a token signed by our key whose header or payload holds %s (RFC 7519 section 7.2)', async (_name, bytes) => {
    const signer = keys.current();
    const header = { alg: signer.alg, typ: 'at+jwt', kid: signer.kid };
    const signed = async (h: Uint8Array | string, p: Uint8Array | string) => {
      const input = `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}`;
      return `${input}.${(await signJwsInput(signer, Buffer.from(input))).toString('base64url')}`;
    };
    expect(verify(await signed(JSON.stringify(header), JSON.stringify({ ...claims(), note: 'x' })))).toBeDefined();
    expect(verify(await signed(JSON.stringify(header), jsonWithBytes(claims(), 'note', bytes)))).toBeUndefined();
    expect(verify(await signed(jsonWithBytes(header, 'note', bytes), JSON.stringify(claims())))).toBeUndefined();
  });

  it('rejects tokens whose claims have the wrong types', async () => {
    const signer = keys.current();
    const base = claims();
    for (const broken of [
      { ...base, exp: String(base.exp) },
      { ...base, iat: undefined },
      { ...base, sub: 1 },
      { ...base, aud: [] },
      { ...base, aud: [1] },
      { ...base, client_id: null },
      { ...base, scope: ['a'] },
      { ...base, tenant_id: 5 },
      { ...base, nbf: (base.iat as number) + 3600 },
    ]) {
      expect(verify(await signJwt(signer, broken, 'at+jwt')), JSON.stringify(broken)).toBeUndefined();
    }
  });

  it('never throws on garbage', async () => {
    const garbage = ['', '.', '..', 'a.b', 'a.b.c', 'a.b.c.d', `${b64('[]')}.${b64('{}')}.x`, `${b64('null')}.e30.x`, '!!.??.**', 'x'.repeat(100_000), `${b64('{"alg":"EdDSA"')}.e30.x`];
    for (const token of garbage) expect(verify(token)).toBeUndefined();
    expect(verifyAccessToken(undefined as unknown as string, { keys, issuer: ISSUER, now })).toBeUndefined();
    expect(verifyAccessToken(42 as unknown as string, { keys, issuer: ISSUER, now })).toBeUndefined();
  });
});
