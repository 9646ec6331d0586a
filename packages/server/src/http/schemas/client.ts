import { Type } from '@sinclair/typebox';
import {
  GRANT_TYPES,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  MAX_AUDIENCES,
  MAX_REDIRECT_URIS,
  MAX_SCOPES,
  MIN_ACCESS_TOKEN_TTL_SECONDS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../../core/oauth/client-metadata.js';
import { MAX_REDIRECT_URI_LENGTH } from '../../core/oauth/redirect-uri.js';
import type { OAuthClientRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

export const GrantTypeSchema = Type.Union(GRANT_TYPES.map((g) => Type.Literal(g)));
export const AuthMethodSchema = Type.Union(TOKEN_ENDPOINT_AUTH_METHODS.map((m) => Type.Literal(m)), {
  description: '`none` registers a public client (no secret; authorization_code with PKCE only).',
});
const ClientName = Text({ minLength: 1, maxLength: 128 });
// Per-item rules (redirect URI registration, scope-token syntax) are checked in core/oauth/client-metadata.ts,
// which names the offending value in the error.
const RedirectUris = Type.Array(Type.String({ minLength: 1, maxLength: MAX_REDIRECT_URI_LENGTH }), {
  maxItems: MAX_REDIRECT_URIS,
  description: 'Registered exactly; https, http on 127.0.0.1 / [::1] (any port at request time), or a reverse-domain private-use scheme.',
});
const ClientScopes = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  maxItems: MAX_SCOPES,
  description: 'Scopes the client may request (RFC 6749 scope tokens: no spaces).',
});
const Audiences = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
  maxItems: MAX_AUDIENCES,
  description: 'Audiences (RFC 8707 resource indicators) the client may obtain tokens for.',
});
const Audience = Type.String({ minLength: 1, maxLength: 256 });
const AccessTokenTtl = Type.Integer({ minimum: MIN_ACCESS_TOKEN_TTL_SECONDS, maximum: MAX_ACCESS_TOKEN_TTL_SECONDS });

export const CreateClientBody = Type.Object(
  {
    name: ClientName,
    redirectUris: Type.Optional(RedirectUris),
    grantTypes: Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length * 2 }),
    scopes: Type.Optional(ClientScopes),
    tokenEndpointAuthMethod: AuthMethodSchema,
    audiences: Type.Optional(Audiences),
    defaultAudience: Type.Optional(Audience),
    tenantId: Type.Optional(TenantId),
    accessTokenTtlSeconds: Type.Optional(AccessTokenTtl),
  },
  { additionalProperties: false },
);

export const UpdateClientBody = Type.Object(
  {
    name: Type.Optional(ClientName),
    redirectUris: Type.Optional(RedirectUris),
    grantTypes: Type.Optional(Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length * 2 })),
    scopes: Type.Optional(ClientScopes),
    tokenEndpointAuthMethod: Type.Optional(AuthMethodSchema),
    audiences: Type.Optional(Audiences),
    defaultAudience: Type.Optional(Nullable(Audience)),
    accessTokenTtlSeconds: Type.Optional(Nullable(AccessTokenTtl)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ClientIdParams = Type.Object({ id: Type.String({ pattern: '^cli_[0-9A-Za-z]{1,64}$' }) });

export const OAuthClientSchema = Type.Object(
  {
    clientId: Type.String(),
    object: Type.Literal('oauth_client'),
    name: Type.String(),
    redirectUris: Type.Array(Type.String()),
    grantTypes: Type.Array(GrantTypeSchema),
    scopes: Type.Array(Type.String()),
    tokenEndpointAuthMethod: AuthMethodSchema,
    audiences: Type.Array(Type.String()),
    defaultAudience: Nullable(Type.String()),
    tenantId: Nullable(Type.String()),
    accessTokenTtlSeconds: Nullable(Type.Integer()),
    secretPrefix: Nullable(Type.String({ description: 'Display prefix of the current secret; null for public clients.' })),
    previousSecretExpiresAt: Nullable(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'An OAuth client. Never includes the secret or its hash.' },
);

export const OAuthClientWithSecret = Type.Composite([
  OAuthClientSchema,
  Type.Object({
    clientSecret: Type.Optional(Type.String({ description: 'The client secret (confidential clients). Shown this once; store it now.' })),
  }),
]);

export function clientView(client: OAuthClientRecord, now: number) {
  const previousLive = client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt > now;
  return {
    clientId: client.id,
    object: 'oauth_client' as const,
    name: client.name,
    redirectUris: client.redirectUris,
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    audiences: client.audiences,
    defaultAudience: client.defaultAudience,
    tenantId: client.tenantId,
    accessTokenTtlSeconds: client.accessTokenTtlSeconds,
    secretPrefix: client.secretPrefix,
    previousSecretExpiresAt: previousLive ? toIso(client.previousSecretExpiresAt) : null,
    createdAt: toIso(client.createdAt)!,
    updatedAt: toIso(client.updatedAt)!,
  };
}
