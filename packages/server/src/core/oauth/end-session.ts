import { compactVerify } from 'jose';
import type { VerificationKeys } from '../tokens/verify-access-token.js';
import type { OAuthClientView } from './oauth-deps.js';

/** The parameters of an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0, section 2). */
export interface EndSessionParams {
  idTokenHint: string | undefined;
  clientId: string | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
}

/** What a verified id_token_hint says: whom it was issued to and about. */
export interface IdTokenHint {
  sub: string;
  aud: string[];
}

export type EndSessionDecision =
  | { ok: false; reason: string }
  | {
      ok: true;
      /** Where to send the browser afterwards (state appended), or null: show the "signed out" page. */
      redirectTo: string | null;
      /** The client the request names (by client_id or the hint's audience), if any. */
      clientId: string | null;
      /** End the browser's session without asking: the hint names the signed-in user (or no one is signed in). */
      confirmed: boolean;
    };

const MAX_HINT_LENGTH = 16 * 1024;

/**
 * Verifies an ID token Gatehouse issued, used as a hint: signature by a published key with that key's algorithm,
 * this issuer, a subject and an audience. Expiry is not checked (section 2: an expired ID token is a valid hint).
 */
export async function verifyIdTokenHint(token: string, keys: VerificationKeys, issuer: string): Promise<IdTokenHint | undefined> {
  if (token.length > MAX_HINT_LENGTH) return undefined;
  try {
    const { payload } = await compactVerify(
      token,
      (header) => {
        const key = typeof header.kid === 'string' ? keys.publicKey(header.kid) : undefined;
        if (!key || key.alg !== header.alg) throw new Error('unknown key');
        return key.publicKey;
      },
      { algorithms: ['EdDSA', 'ES256', 'RS256'] },
    );
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== issuer || typeof claims.sub !== 'string') return undefined;
    const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string')) return undefined;
    return { sub: claims.sub, aud: aud as string[] };
  } catch {
    return undefined;
  }
}

/**
 * Decides a logout request, purely. The post_logout_redirect_uri must be registered by the client exactly (no
 * loopback port leeway), and the client must be named (client_id, or the hint's audience); a request that names
 * a client different from the hint's audience is refused. Without a hint naming the signed-in user, the person is
 * asked to confirm (a third party cannot sign them out by a link alone).
 */
export function decideEndSession(
  params: EndSessionParams,
  hint: IdTokenHint | undefined,
  client: OAuthClientView | undefined,
  sessionUserId: string | null,
): EndSessionDecision {
  if (params.idTokenHint !== undefined && !hint) return { ok: false, reason: 'The id_token_hint is not an ID token issued here.' };
  if (hint && params.clientId !== undefined && !hint.aud.includes(params.clientId)) {
    return { ok: false, reason: 'The client_id is not the audience of the id_token_hint.' };
  }
  const clientId = params.clientId ?? (hint && hint.aud.length === 1 ? hint.aud[0]! : undefined);
  if (clientId !== undefined && !client) return { ok: false, reason: 'Unknown client.' };
  let redirectTo: string | null = null;
  if (params.postLogoutRedirectUri !== undefined) {
    if (!client) return { ok: false, reason: 'A post_logout_redirect_uri needs the client: send client_id or id_token_hint.' };
    if (!client.postLogoutRedirectUris.includes(params.postLogoutRedirectUri)) {
      return { ok: false, reason: 'The post_logout_redirect_uri is not registered for this client.' };
    }
    const url = new URL(params.postLogoutRedirectUri);
    if (params.state !== undefined) url.searchParams.append('state', params.state);
    redirectTo = url.href;
  }
  const confirmed = sessionUserId === null || (hint !== undefined && hint.sub === sessionUserId);
  return { ok: true, redirectTo, clientId: client?.id ?? null, confirmed };
}
