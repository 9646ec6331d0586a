/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The OpenID Connect scopes Gatehouse understands itself. */
export const OIDC_SCOPES = ['openid', 'profile', 'email'] as const;

/**
 * Every scope OpenID Connect defines (Core section 5.4 and 11: `offline_access` asks for a refresh token for a
 * user who is not present). They are about an end user, so a client acting for itself is never granted them.
 */
export const OPENID_SCOPES: readonly string[] = [...OIDC_SCOPES, 'address', 'phone', 'offline_access'];

/** Parses a scope parameter; undefined when it is malformed. An absent or empty parameter is no scopes. */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined || value === '') return [];
  const tokens = value.split(' ');
  if (!tokens.every((token) => SCOPE_TOKEN.test(token))) return undefined;
  return [...new Set(tokens)];
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

/** The members of `requested` that `allowed` does not contain. */
export function scopesOutside(requested: readonly string[], allowed: readonly string[]): string[] {
  const set = new Set(allowed);
  return requested.filter((scope) => !set.has(scope));
}
