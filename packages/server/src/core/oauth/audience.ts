import { OAuthError } from '../errors.js';
import type { OAuthClientView } from './oauth-deps.js';

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

/**
 * The audience of the tokens a request asks for: the RFC 8707 `resource` values when given (each one an
 * audience the client is registered for), else the client's first registered audience, else the issuer.
 */
export function resolveAudience(client: OAuthClientView, resources: readonly string[], issuer: string): string[] {
  if (resources.length === 0) return [client.defaultAudience ?? client.audiences[0] ?? issuer];
  for (const resource of resources) {
    if (!isResourceIndicator(resource)) throw new OAuthError('invalid_target', 'A resource must be an absolute URI without a fragment.');
    if (!client.audiences.includes(resource)) {
      throw new OAuthError('invalid_target', undefined, { reason: `resource not registered for the client: ${resource.slice(0, 200)}` });
    }
  }
  return [...new Set(resources)];
}

/** At the token endpoint, `resource` may only narrow the audience the grant already has. */
export function narrowAudience(granted: readonly string[], resources: readonly string[]): string[] {
  if (resources.length === 0) return [...granted];
  for (const resource of resources) {
    if (!granted.includes(resource)) throw new OAuthError('invalid_target', undefined, { reason: 'resource outside the grant' });
  }
  return [...new Set(resources)];
}
