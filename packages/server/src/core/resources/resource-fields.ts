import { isManagementScope } from '../api-keys/management-scopes.js';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, MAX_SCOPES, MIN_ACCESS_TOKEN_TTL_SECONDS } from '../oauth/client-metadata.js';
import { isResourceIndicator } from '../oauth/audience.js';
import { OPENID_SCOPES } from '../oauth/scopes.js';

export const MAX_RESOURCE_IDENTIFIER_LENGTH = 256;
export const MAX_RESOURCE_NAME_LENGTH = 128;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/** The fields of a resource that its registration decides (the rest is bookkeeping). */
export interface ResourceFields {
  identifier: string;
  name: string;
  scopes: string[];
  dynamicClients: boolean;
  accessTokenTtlSeconds: number | null;
}

/**
 * What is wrong with a resource's fields, or null. Pure. The identifier is an RFC 8707 resource indicator (an
 * absolute URI without a fragment), compared exactly. Scopes are RFC 6749 scope tokens that belong to the API:
 * not OpenID Connect's own (Gatehouse grants those itself), and, for a resource self-registered clients may ask
 * for, no management scope of Gatehouse (a client nobody vetted must never be able to ask for one).
 */
export function resourceFieldsProblem(fields: ResourceFields): string | null {
  const { identifier } = fields;
  if (identifier.length === 0 || identifier.length > MAX_RESOURCE_IDENTIFIER_LENGTH) {
    return `identifier: 1 to ${MAX_RESOURCE_IDENTIFIER_LENGTH} characters.`;
  }
  if (!isResourceIndicator(identifier)) return 'identifier: must be an absolute URI without a fragment (RFC 8707).';
  if (fields.name.trim().length === 0 || fields.name.length > MAX_RESOURCE_NAME_LENGTH) {
    return `name: 1 to ${MAX_RESOURCE_NAME_LENGTH} characters, not only spaces.`;
  }
  if (fields.scopes.length > MAX_SCOPES) return `scopes: at most ${MAX_SCOPES}.`;
  for (const scope of fields.scopes) {
    if (!SCOPE_TOKEN.test(scope)) return `scopes: not a valid scope token: ${JSON.stringify(scope.slice(0, 130))}.`;
    if (OPENID_SCOPES.includes(scope)) return `scopes: ${scope} is an OpenID Connect scope, granted by Gatehouse itself, not by an API.`;
    if (fields.dynamicClients && isManagementScope(scope)) {
      return `scopes: ${scope} is a management scope of Gatehouse; self-registered clients may not ask for it (dynamicClients).`;
    }
  }
  const ttl = fields.accessTokenTtlSeconds;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < MIN_ACCESS_TOKEN_TTL_SECONDS || ttl > MAX_ACCESS_TOKEN_TTL_SECONDS)) {
    return `accessTokenTtlSeconds: an integer from ${MIN_ACCESS_TOKEN_TTL_SECONDS} to ${MAX_ACCESS_TOKEN_TTL_SECONDS}, or null.`;
  }
  return null;
}
