/**
 * Gatehouse's one clock-skew policy: a token minted on one machine is verified on another, whose clock may
 * differ. Every time claim is checked with this tolerance, by the server (introspection, userinfo, revocation)
 * and by the SDK's authenticator (its `clockToleranceSeconds` default):
 * - `exp`: the token is good while now < exp + tolerance;
 * - `nbf`: refused while nbf > now + tolerance;
 * - `iat`: refused when iat > now + tolerance (minted in the future), or after `exp`.
 */
export const CLOCK_SKEW_SECONDS = 60;

export type TimeClaimsVerdict = 'valid' | 'expired' | 'invalid';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The time claims of a JWT payload judged at `nowMs` (epoch milliseconds, read as whole seconds like JOSE
 * libraries do) with `toleranceSeconds` of skew: `expired` past exp, `invalid` for a missing or non-numeric
 * exp or iat, a non-numeric nbf, or one in the future. Pure.
 */
export function checkTimeClaims(claims: Record<string, unknown>, nowMs: number, toleranceSeconds: number = CLOCK_SKEW_SECONDS): TimeClaimsVerdict {
  const now = Math.floor(nowMs / 1000);
  const { exp, iat, nbf } = claims;
  if (!isTime(exp) || !isTime(iat)) return 'invalid';
  if (nbf !== undefined && (!isTime(nbf) || nbf > now + toleranceSeconds)) return 'invalid';
  if (iat > now + toleranceSeconds || iat > exp) return 'invalid';
  if (exp <= now - toleranceSeconds) return 'expired';
  return 'valid';
}
