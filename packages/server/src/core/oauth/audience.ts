import { OAuthError } from '../errors.js';
import type { OAuthClientView, OAuthDeps, OAuthResourceView } from './oauth-deps.js';
import { OPENID_SCOPES } from './scopes.js';

/** RFC 8707 section 2: an absolute URI without a fragment. */
export function isResourceIndicator(value: string): boolean {
  if (value.includes('#')) return false;
  try {
    new URL(value);
    return /^[a-z][a-z0-9+.-]*:/i.test(value);
  } catch {
    return false;
  }
}

/** The audience of a token and the registered resources among it. */
export interface ResolvedAudience {
  audience: string[];
  /** The registered resources (RFC 8707 resources in the admin API) the audience names; unregistered ones are absent. */
  resources: OAuthResourceView[];
}

type ResourceDeps = Pick<OAuthDeps, 'findResource'>;

/** Whether the client registered itself (Dynamic Client Registration, Client ID Metadata Document). */
const selfRegistered = (client: OAuthClientView): boolean => client.registration !== 'admin';

/**
 * Whether `client` may have tokens for `identifier`: it is one of the client's registered audiences, or the
 * client registered itself and `resource` is registered for self-registered clients (`dynamicClients`).
 */
function mayHave(client: OAuthClientView, identifier: string, resource: OAuthResourceView | undefined): boolean {
  if (client.audiences.includes(identifier)) return true;
  return selfRegistered(client) && resource !== undefined && resource.dynamicClients;
}

async function registered(deps: ResourceDeps, audience: readonly string[]): Promise<Array<OAuthResourceView | undefined>> {
  return Promise.all(audience.map((identifier) => deps.findResource(identifier)));
}

/**
 * The audience of the tokens a request asks for (authorization endpoint, client_credentials): the RFC 8707
 * `resource` values when given, each one the client may have (`invalid_target` otherwise); else the client's
 * default audience, else its first registered one, else the issuer.
 */
export async function resolveAudience(
  client: OAuthClientView,
  requested: readonly string[],
  deps: ResourceDeps & Pick<OAuthDeps, 'issuer'>,
): Promise<ResolvedAudience> {
  if (requested.length === 0) {
    const audience = [client.defaultAudience ?? client.audiences[0] ?? deps.issuer()];
    return { audience, resources: (await registered(deps, audience)).filter((r) => r !== undefined) };
  }
  for (const resource of requested) {
    if (!isResourceIndicator(resource)) throw new OAuthError('invalid_target', 'A resource must be an absolute URI without a fragment.');
  }
  const audience = [...new Set(requested)];
  // An admin-registered client is refused what it is not registered for before any lookup: what it can make
  // Gatehouse look up is bounded by its registration.
  const refuse = (identifier: string) =>
    new OAuthError('invalid_target', undefined, { reason: `resource not allowed to the client: ${identifier.slice(0, 200)}` });
  if (!selfRegistered(client)) {
    const outside = audience.find((identifier) => !client.audiences.includes(identifier));
    if (outside !== undefined) throw refuse(outside);
  }
  const found = await registered(deps, audience);
  audience.forEach((identifier, i) => {
    if (!mayHave(client, identifier, found[i])) throw refuse(identifier);
  });
  return { audience, resources: found.filter((r) => r !== undefined) };
}

/**
 * The scopes `client` may be granted for tokens whose audience holds `resources`. An admin-registered client: its
 * registered scopes. A self-registered one: the OpenID scopes plus the scopes of the registered resources asked
 * for. The `scope` such a client declared (DCR, metadata document) is what it expects to use (RFC 7591 section 2),
 * not a limit: MCP clients register with the scope of their first challenge and must be able to step up later
 * (MCP authorization, "Scope Challenge Handling"); the resources decide what exists and the user consents to it.
 */
export function allowedScopes(client: OAuthClientView, resources: readonly OAuthResourceView[]): string[] {
  if (!selfRegistered(client)) return client.scopes;
  return [...new Set<string>([...OPENID_SCOPES, ...resources.flatMap((r) => r.scopes)])];
}

/** At the token endpoint, `resource` may only narrow the audience the grant already has. */
export function narrowAudience(granted: readonly string[], resources: readonly string[]): string[] {
  if (resources.length === 0) return [...granted];
  for (const resource of resources) {
    if (!granted.includes(resource)) throw new OAuthError('invalid_target', undefined, { reason: 'resource outside the grant' });
  }
  return [...new Set(resources)];
}

/** What one token of a grant is for: its audience, its scopes, and the cap its registered resources put on its lifetime. */
export interface TokenTarget {
  audience: string[];
  scopes: string[];
  /** The shortest `accessTokenTtlSeconds` of the registered resources in the audience; null when none sets one. */
  maxTtlSeconds: number | null;
}

/**
 * A token per resource (code exchange and refresh): `resource` narrows the token's audience to resources of the
 * grant, and, when every one asked for is registered, its scope to the granted scopes that belong to them (plus
 * the OpenID scopes). The grant keeps all its scopes. A self-registered client must still be allowed each
 * resource (deleted, or no longer open to self-registered clients: `invalid_target`); the issuer, the audience
 * of a grant made without `resource`, needs no registration.
 */
export async function tokenTarget(
  client: OAuthClientView,
  grant: { audience: readonly string[]; scopes: readonly string[] },
  requested: readonly string[],
  deps: ResourceDeps & Pick<OAuthDeps, 'issuer'>,
): Promise<TokenTarget> {
  const audience = narrowAudience(grant.audience, requested);
  const found = await registered(deps, audience);
  audience.forEach((identifier, i) => {
    if (selfRegistered(client) && identifier !== deps.issuer() && !mayHave(client, identifier, found[i])) {
      throw new OAuthError('invalid_target', undefined, { reason: `resource no longer allowed to the client: ${identifier.slice(0, 200)}` });
    }
  });
  const resources = found.filter((r) => r !== undefined);
  let scopes = [...grant.scopes];
  if (requested.length > 0 && resources.length === audience.length) {
    const belong = new Set<string>([...OPENID_SCOPES, ...resources.flatMap((r) => r.scopes)]);
    scopes = scopes.filter((scope) => belong.has(scope));
  }
  return { audience, scopes, maxTtlSeconds: resourceTtlCap(resources) };
}

/** The shortest lifetime the registered resources of an audience allow; null when none sets one. */
export function resourceTtlCap(resources: readonly OAuthResourceView[]): number | null {
  const caps = resources.map((r) => r.accessTokenTtlSeconds).filter((ttl): ttl is number => ttl !== null);
  return caps.length === 0 ? null : Math.min(...caps);
}
