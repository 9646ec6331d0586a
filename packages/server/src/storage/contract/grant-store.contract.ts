import { describe, expect, it } from 'vitest';
import type { AuthorizationCodeRecord, GrantRecord, RefreshTokenRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;

function code(overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    hash: 'c'.repeat(64),
    clientId: 'cli_1',
    userId: 'usr_1',
    tenantId: null,
    redirectUri: 'https://app.example/cb',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scopes: ['openid', 'read'],
    audience: ['https://api.example'],
    nonce: 'n-0S6_WzA2Mj',
    authTime: T0,
    createdAt: T0,
    expiresAt: T0 + 60_000,
    redeemedAt: null,
    grantId: null,
    ...overrides,
  };
}

function grant(id: string, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id,
    clientId: 'cli_1',
    userId: 'usr_1',
    tenantId: null,
    scopes: ['openid', 'read'],
    audience: ['https://api.example'],
    authTime: T0,
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    revokedAt: null,
    revokedReason: null,
    certificateThumbprint: null,
    ...overrides,
  };
}

function refresh(hash: string, grantId: string, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return { hash, grantId, scopes: ['read'], createdAt: T0, expiresAt: T0 + 7 * DAY, usedAt: null, ...overrides };
}

export function grantStoreContract(name: string, open: OpenStores): void {
  describe(`GrantStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const grants = () => stores().grants;

    /** Redeems `code()` into grant `grt_1` with refresh token `r1` and access token `jti_1`. */
    async function redeemed(): Promise<void> {
      await grants().insertCode(code());
      const result = await grants().redeemCode({
        codeHash: code().hash,
        now: T0 + 1000,
        grant: grant('grt_1'),
        refreshToken: refresh('r1', 'grt_1'),
        accessToken: { jti: 'jti_1', grantId: 'grt_1', expiresAt: T0 + 900_000 },
        events: [],
      });
      expect(result).toStrictEqual({ outcome: 'redeemed' });
    }

    it('keeps the certificate a grant is bound to (RFC 8705)', async () => {
      await grants().insertCode(code());
      const bound = grant('grt_1', { certificateThumbprint: 'x5t-thumbprint' });
      await grants().redeemCode({
        codeHash: code().hash,
        now: T0 + 1000,
        grant: bound,
        refreshToken: refresh('r1', 'grt_1'),
        accessToken: { jti: 'jti_1', grantId: 'grt_1', expiresAt: T0 + 900_000 },
        events: [],
      });
      expect(await grants().findGrant('grt_1')).toStrictEqual(bound);
      expect((await grants().findRefreshToken('r1'))?.grant).toStrictEqual(bound);
    });

    it('stores a code and finds it by hash, exactly as given', async () => {
      expect(await grants().insertCode(code())).toBe('inserted');
      expect(await grants().findCode(code().hash)).toStrictEqual(code());
      expect(await grants().findCode('d'.repeat(64))).toBeUndefined();
    });

    it('refuses a second code for the same client and code_challenge, redeemed, expired or not; other clients are free', async () => {
      expect(await grants().insertCode(code())).toBe('inserted');
      const again = code({ hash: 'f'.repeat(64), createdAt: T0 + 1000, expiresAt: T0 + 61_000 });
      expect(await grants().insertCode(again)).toBe('challenge_reused');
      expect(await grants().findCode(again.hash)).toBeUndefined();
      // Still refused once the first code is redeemed and expired, as long as it is kept.
      await grants().redeemCode({
        codeHash: code().hash,
        now: T0 + 1000,
        grant: grant('grt_1'),
        refreshToken: null,
        accessToken: { jti: 'jti_1', grantId: 'grt_1', expiresAt: T0 + 900_000 },
        events: [],
      });
      expect(await grants().insertCode(code({ hash: 'e'.repeat(64), createdAt: T0 + 120_000, expiresAt: T0 + 180_000 }))).toBe('challenge_reused');
      // The challenge binds per client: another client may use the same value; a new challenge is fine.
      expect(await grants().insertCode(code({ hash: 'a'.repeat(64), clientId: 'cli_2' }))).toBe('inserted');
      expect(await grants().insertCode(code({ hash: 'b'.repeat(64), codeChallenge: 'x'.repeat(43) }))).toBe('inserted');
    });

    it('of ten concurrent codes with one challenge exactly one is stored', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => grants().insertCode(code({ hash: `${i}`.repeat(64) }))),
      );
      expect(results.filter((r) => r === 'inserted')).toHaveLength(1);
      expect(results.filter((r) => r === 'challenge_reused')).toHaveLength(9);
    });

    it('redeems a code once, creating the grant, refresh token and access-token record together', async () => {
      await redeemed();
      expect(await grants().findCode(code().hash)).toMatchObject({ redeemedAt: T0 + 1000, grantId: 'grt_1' });
      expect(await grants().findGrant('grt_1')).toStrictEqual(grant('grt_1'));
      expect(await grants().findRefreshToken('r1')).toStrictEqual({ token: refresh('r1', 'grt_1'), grant: grant('grt_1') });

      const again = await grants().redeemCode({
        codeHash: code().hash,
        now: T0 + 2000,
        grant: grant('grt_2'),
        refreshToken: refresh('r2', 'grt_2'),
        accessToken: { jti: 'jti_2', grantId: 'grt_2', expiresAt: T0 + 900_000 },
        events: [],
      });
      expect(again).toStrictEqual({ outcome: 'already_redeemed', grantId: 'grt_1' });
      // The losing attempt wrote nothing.
      expect(await grants().findGrant('grt_2')).toBeUndefined();
      expect(await grants().findRefreshToken('r2')).toBeUndefined();
    });

    it('does not redeem an expired or unknown code', async () => {
      await grants().insertCode(code());
      const attempt = (codeHash: string, now: number) =>
        grants().redeemCode({
          codeHash,
          now,
          grant: grant('grt_x'),
          refreshToken: null,
          accessToken: { jti: 'jti_x', grantId: 'grt_x', expiresAt: now + 1 },
          events: [],
        });
      expect(await attempt(code().hash, T0 + 60_000)).toStrictEqual({ outcome: 'not_redeemable' });
      expect(await attempt('e'.repeat(64), T0)).toStrictEqual({ outcome: 'not_redeemable' });
      expect(await grants().findGrant('grt_x')).toBeUndefined();
    });

    it('of ten concurrent redemptions of one code exactly one wins', async () => {
      await grants().insertCode(code());
      await Promise.all(Array.from({ length: 10 }, () => grants().findCode('warm-up')));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          grants().redeemCode({
            codeHash: code().hash,
            now: T0 + 1000,
            grant: grant(`grt_${i}`),
            refreshToken: refresh(`r_${i}`, `grt_${i}`),
            accessToken: { jti: `jti_${i}`, grantId: `grt_${i}`, expiresAt: T0 + 900_000 },
            events: [],
          }),
        ),
      );
      const winners = results.flatMap((r, i) => (r.outcome === 'redeemed' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) if (r.outcome !== 'redeemed') expect(r).toStrictEqual({ outcome: 'already_redeemed', grantId: `grt_${winners[0]}` });
    });

    it('rotates a refresh token once; presenting it again is reuse', async () => {
      await redeemed();
      const rotate = (oldHash: string, nextHash: string, jti: string, now = T0 + 5000) =>
        grants().rotateRefreshToken({
          oldHash,
          now,
          next: refresh(nextHash, 'grt_1', { createdAt: now }),
          accessToken: { jti, grantId: 'grt_1', expiresAt: now + 900_000 },
          events: [],
        });
      expect(await rotate('r1', 'r2', 'jti_2')).toStrictEqual({ outcome: 'rotated' });
      expect((await grants().findRefreshToken('r1'))?.token.usedAt).toBe(T0 + 5000);
      expect(await rotate('r1', 'r3', 'jti_3')).toStrictEqual({ outcome: 'reused', grantId: 'grt_1' });
      expect(await grants().findRefreshToken('r3')).toBeUndefined();
      expect(await rotate('unknown', 'r4', 'jti_4')).toStrictEqual({ outcome: 'not_active' });
      // Expired (idle) token.
      expect(await rotate('r2', 'r5', 'jti_5', T0 + 8 * DAY)).toStrictEqual({ outcome: 'not_active' });
    });

    it('of ten concurrent rotations of one refresh token exactly one wins, the rest see reuse', async () => {
      await redeemed();
      await Promise.all(Array.from({ length: 10 }, () => grants().findGrant('warm-up')));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          grants().rotateRefreshToken({
            oldHash: 'r1',
            now: T0 + 5000,
            next: refresh(`next_${i}`, 'grt_1'),
            accessToken: { jti: `jti_n${i}`, grantId: 'grt_1', expiresAt: T0 + 900_000 },
            events: [],
          }),
        ),
      );
      expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'reused')).toHaveLength(9);
      const live = await Promise.all(Array.from({ length: 10 }, (_, i) => grants().findRefreshToken(`next_${i}`)));
      expect(live.filter(Boolean)).toHaveLength(1);
    });

    it('revoking a grant denies its unexpired access tokens and stops its refresh tokens', async () => {
      await redeemed();
      await grants().rotateRefreshToken({
        oldHash: 'r1',
        now: T0 + 5000,
        next: refresh('r2', 'grt_1'),
        accessToken: { jti: 'jti_2', grantId: 'grt_1', expiresAt: T0 + 5000 + 900_000 },
        events: [],
      });
      const now = T0 + 900_000 + 1000; // jti_1 has expired, jti_2 has not
      const result = await grants().revokeGrants({ grantId: 'grt_1' }, now, 'test', []);
      expect(result).toStrictEqual({ grantIds: ['grt_1'], deniedTokens: [{ jti: 'jti_2', expiresAt: T0 + 5000 + 900_000 }] });
      expect(await grants().findGrant('grt_1')).toMatchObject({ revokedAt: now, revokedReason: 'test' });
      expect(await grants().listDeniedTokens(now)).toStrictEqual([{ jti: 'jti_2', expiresAt: T0 + 5000 + 900_000 }]);
      expect(
        await grants().rotateRefreshToken({
          oldHash: 'r2',
          now: now + 1,
          next: refresh('r3', 'grt_1'),
          accessToken: { jti: 'jti_3', grantId: 'grt_1', expiresAt: now + 900_000 },
          events: [],
        }),
      ).toStrictEqual({ outcome: 'not_active' });
      // Revoking again changes nothing.
      expect(await grants().revokeGrants({ grantId: 'grt_1' }, now + 2, 'again', [])).toStrictEqual({ grantIds: [], deniedTokens: [] });
    });

    it('revokes every live grant of a user, of a user and client, or of a client, and only those', async () => {
      for (const [id, clientId, userId] of [
        ['g_a', 'cli_a', 'usr_1'],
        ['g_b', 'cli_b', 'usr_1'],
        ['g_c', 'cli_a', 'usr_2'],
      ] as const) {
        await grants().insertCode(code({ hash: `code_${id}`, clientId, userId, codeChallenge: `challenge_${id}` }));
        await grants().redeemCode({
          codeHash: `code_${id}`,
          now: T0,
          grant: grant(id, { clientId, userId }),
          refreshToken: null,
          accessToken: { jti: `jti_${id}`, grantId: id, expiresAt: T0 + 900_000 },
          events: [],
        });
      }
      // One user's grants of one client (the console's sign-out): not the user's other grants, not others' of it.
      const byUserAndClient = await grants().revokeGrants({ userId: 'usr_1', clientId: 'cli_b' }, T0 + 1, 'user and client', []);
      expect(byUserAndClient).toStrictEqual({ grantIds: ['g_b'], deniedTokens: [{ jti: 'jti_g_b', expiresAt: T0 + 900_000 }] });
      const byUser = await grants().revokeGrants({ userId: 'usr_1' }, T0 + 1, 'user', []);
      expect(byUser.grantIds.sort()).toStrictEqual(['g_a']);
      const byClient = await grants().revokeGrants({ clientId: 'cli_a' }, T0 + 2, 'client', []);
      expect(byClient.grantIds).toStrictEqual(['g_c']);
      expect((await grants().listDeniedTokens(T0 + 3)).map((d) => d.jti).sort()).toStrictEqual(['jti_g_a', 'jti_g_b', 'jti_g_c']);
    });

    it('keeps denied tokens until they expire, idempotently, and purges what is expired', async () => {
      await grants().denyToken({ jti: 'j1', expiresAt: T0 + 1000 }, T0, []);
      await grants().denyToken({ jti: 'j1', expiresAt: T0 + 1000 }, T0, []);
      await grants().denyToken({ jti: 'j2', expiresAt: T0 + 5000 }, T0, []);
      expect((await grants().listDeniedTokens(T0)).map((d) => d.jti).sort()).toStrictEqual(['j1', 'j2']);
      expect((await grants().listDeniedTokens(T0 + 1000)).map((d) => d.jti)).toStrictEqual(['j2']);

      await grants().insertCode(code());
      await grants().purgeExpired(T0 + 2000, T0 + 2000 - DAY);
      expect(await grants().findCode(code().hash)).toBeDefined(); // kept for replay detection
      await grants().purgeExpired(T0 + 2 * DAY, T0 + DAY);
      expect(await grants().findCode(code().hash)).toBeUndefined();
      expect(await grants().listDeniedTokens(0)).toStrictEqual([]);
    });
  });

  describe(`ConsentStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const consents = () => stores().consents;

    it('grants as a union and never narrows; forgets per client or all', async () => {
      expect(await consents().find('usr_1', 'cli_1')).toBeUndefined();
      await consents().grant('usr_1', 'cli_1', ['read', 'openid'], T0);
      const widened = await consents().grant('usr_1', 'cli_1', ['write', 'read'], T0 + 1);
      expect(widened).toStrictEqual({ userId: 'usr_1', clientId: 'cli_1', scopes: ['openid', 'read', 'write'], createdAt: T0, updatedAt: T0 + 1 });
      expect(await consents().find('usr_1', 'cli_1')).toStrictEqual(widened);
      await consents().grant('usr_1', 'cli_2', ['x'], T0);
      await consents().forget('usr_1', 'cli_1');
      expect(await consents().find('usr_1', 'cli_1')).toBeUndefined();
      expect(await consents().find('usr_1', 'cli_2')).toBeDefined();
      await consents().forget('usr_1');
      expect(await consents().find('usr_1', 'cli_2')).toBeUndefined();
    });

    it('concurrent grants lose no scope', async () => {
      await Promise.all(Array.from({ length: 10 }, () => consents().find('warm', 'up')));
      await Promise.all(Array.from({ length: 10 }, (_, i) => consents().grant('usr_1', 'cli_1', [`s${i}`], T0)));
      expect((await consents().find('usr_1', 'cli_1'))?.scopes).toHaveLength(10);
    });
  });

  describe(`SessionStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const sessions = () => stores().sessions;
    const session = (hash: string, userId = 'usr_1', createdAt = T0) => ({
      hash,
      id: `ses_${hash}`,
      userId,
      authTime: createdAt,
      createdAt,
      expiresAt: createdAt + DAY,
      revokedAt: null,
    });

    it('stores, finds and revokes sessions, one or all of a user', async () => {
      await sessions().insert(session('s1'));
      await sessions().insert(session('s2'));
      await sessions().insert(session('s3', 'usr_2'));
      expect(await sessions().find('s1')).toStrictEqual(session('s1'));
      await sessions().revoke('s1', T0 + 1);
      expect((await sessions().find('s1'))?.revokedAt).toBe(T0 + 1);
      await sessions().revokeForUser('usr_1', T0 + 2);
      expect((await sessions().find('s1'))?.revokedAt).toBe(T0 + 1);
      expect((await sessions().find('s2'))?.revokedAt).toBe(T0 + 2);
      expect((await sessions().find('s3'))?.revokedAt).toBeNull();
      expect(await sessions().find('nope')).toBeUndefined();
    });

    it("lists a user's live sessions newest first and ends one by its public id, only the user's own", async () => {
      await sessions().insert(session('a1', 'usr_1', T0));
      await sessions().insert(session('a2', 'usr_1', T0 + 10));
      await sessions().insert(session('a3', 'usr_1', T0 + 20));
      await sessions().insert(session('b1', 'usr_2', T0 + 30));
      await sessions().revoke('a3', T0 + 40);
      expect((await sessions().listLive('usr_1', T0 + 50, 10)).map((s) => s.id)).toStrictEqual(['ses_a2', 'ses_a1']);
      expect((await sessions().listLive('usr_1', T0 + 50, 1)).map((s) => s.id)).toStrictEqual(['ses_a2']);
      // Expired sessions are not live.
      expect((await sessions().listLive('usr_1', T0 + DAY + 5, 10)).map((s) => s.id)).toStrictEqual(['ses_a2']);
      // Another user's session is not ended through this user; an ended one is not ended twice.
      expect(await sessions().revokeById('usr_1', 'ses_b1', T0 + 60)).toBe(false);
      expect((await sessions().find('b1'))?.revokedAt).toBeNull();
      expect(await sessions().revokeById('usr_1', 'ses_a3', T0 + 60)).toBe(false);
      expect((await sessions().find('a3'))?.revokedAt).toBe(T0 + 40);
      expect(await sessions().revokeById('usr_1', 'ses_a1', T0 + 60)).toBe(true);
      expect((await sessions().find('a1'))?.revokedAt).toBe(T0 + 60);
      // revokeOthers keeps the named session only.
      await sessions().insert(session('a4', 'usr_1', T0 + 70));
      await sessions().revokeOthers('usr_1', 'a4', T0 + 80);
      expect((await sessions().listLive('usr_1', T0 + 90, 10)).map((s) => s.id)).toStrictEqual(['ses_a4']);
      expect((await sessions().find('a2'))?.revokedAt).toBe(T0 + 80);
      expect((await sessions().find('b1'))?.revokedAt).toBeNull();
    });
  });
}
