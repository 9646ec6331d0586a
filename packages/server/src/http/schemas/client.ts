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
import { MAX_ALLOWED_ORIGIN_LENGTH, MAX_ALLOWED_ORIGINS } from '../../core/oauth/allowed-origin.js';
import { MAX_REDIRECT_URI_LENGTH } from '../../core/oauth/redirect-uri.js';
import { SIGNING_ALGS } from '../../core/tokens/signing-alg.js';
import type { OAuthClientRecord } from '../../storage/stores.js';
import { GatehouseError } from '../../core/errors.js';
import type { TlsClientAuthField, TlsClientAuthSubject } from '../../core/oauth/client-metadata.js';
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
const AllowedOrigins = Type.Array(Type.String({ minLength: 1, maxLength: MAX_ALLOWED_ORIGIN_LENGTH }), {
  maxItems: MAX_ALLOWED_ORIGINS,
  description:
    'Web origins (scheme://host[:port], no path) whose pages may call the token, revocation and userinfo endpoints from the browser (CORS). ' +
    'https, or http on 127.0.0.1, [::1] or localhost; compared exactly with the Origin header.',
});
const PostLogoutRedirectUris = Type.Array(Type.String({ minLength: 1, maxLength: MAX_REDIRECT_URI_LENGTH }), {
  maxItems: MAX_REDIRECT_URIS,
  description:
    'Where RP-initiated logout may send the browser back (post_logout_redirect_uri, matched exactly, the port included). The same URIs as redirectUris are accepted.',
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
const IdTokenAlg = Type.Union(
  SIGNING_ALGS.map((alg) => Type.Literal(alg)),
  {
    description:
      'The JWS algorithm of its ID tokens (OpenID Connect Dynamic Client Registration id_token_signed_response_alg). ' +
      'Default RS256, as the specification says; one of the algorithms the signing keys sign with now ' +
      '(id_token_signing_alg_values_supported): RS256 and GATEHOUSE_SIGNING_ALG.',
  },
);

/** RFC 8705 section 2.1.2 client metadata, camelCased: exactly one for tls_client_auth. */
const TLS_CLIENT_AUTH_PROPERTIES = {
  tlsClientAuthSubjectDn: 'subject_dn',
  tlsClientAuthSanDns: 'san_dns',
  tlsClientAuthSanUri: 'san_uri',
  tlsClientAuthSanIp: 'san_ip',
  tlsClientAuthSanEmail: 'san_email',
} as const satisfies Record<string, TlsClientAuthField>;
type TlsClientAuthProperty = keyof typeof TLS_CLIENT_AUTH_PROPERTIES;
const TlsClientAuthValue = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description }));
const TlsClientAuthFields = {
  tlsClientAuthSubjectDn: TlsClientAuthValue('tls_client_auth: the certificate subject DN (RFC 4514, e.g. "CN=cli_...").'),
  tlsClientAuthSanDns: TlsClientAuthValue('tls_client_auth: a dNSName SAN of the certificate.'),
  tlsClientAuthSanUri: TlsClientAuthValue('tls_client_auth: a URI SAN, e.g. the spiffe:// URI of a Gatehouse-issued certificate.'),
  tlsClientAuthSanIp: TlsClientAuthValue('tls_client_auth: an iPAddress SAN.'),
  tlsClientAuthSanEmail: TlsClientAuthValue('tls_client_auth: an rfc822Name SAN.'),
};
const ClientJwksSchema = Type.Object(
  { keys: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 10 }) },
  { additionalProperties: false, description: 'self_signed_tls_client_auth: public JWKs whose x5c[0] is a certificate the client presents.' },
);

/**
 * A create or update body with its tlsClientAuth* fields folded into the one `tlsClientAuth` the service takes
 * (absent when none is given); 400 when several are.
 */
export function withTlsClientAuth<T extends Partial<Record<TlsClientAuthProperty, string>>>(
  body: T,
): Omit<T, TlsClientAuthProperty> & { tlsClientAuth?: TlsClientAuthSubject } {
  const rest: Record<string, unknown> = { ...body };
  const given = (Object.keys(TLS_CLIENT_AUTH_PROPERTIES) as TlsClientAuthProperty[]).filter((name) => body[name] !== undefined);
  for (const name of Object.keys(TLS_CLIENT_AUTH_PROPERTIES)) delete rest[name];
  if (given.length > 1) throw new GatehouseError('invalid_request', 'Register exactly one tlsClientAuth* field.');
  const name = given[0];
  if (name !== undefined) rest.tlsClientAuth = { field: TLS_CLIENT_AUTH_PROPERTIES[name], value: body[name]! };
  return rest as Omit<T, TlsClientAuthProperty> & { tlsClientAuth?: TlsClientAuthSubject };
}

function tlsClientAuthView(client: OAuthClientRecord): Partial<Record<TlsClientAuthProperty, string>> {
  const registered = client.tlsClientAuth;
  if (!registered) return {};
  const name = (Object.keys(TLS_CLIENT_AUTH_PROPERTIES) as TlsClientAuthProperty[]).find((n) => TLS_CLIENT_AUTH_PROPERTIES[n] === registered.field)!;
  return { [name]: registered.value };
}

export const CreateClientBody = Type.Object(
  {
    name: ClientName,
    redirectUris: Type.Optional(RedirectUris),
    allowedOrigins: Type.Optional(AllowedOrigins),
    postLogoutRedirectUris: Type.Optional(PostLogoutRedirectUris),
    grantTypes: Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length * 2 }),
    scopes: Type.Optional(ClientScopes),
    tokenEndpointAuthMethod: AuthMethodSchema,
    audiences: Type.Optional(Audiences),
    defaultAudience: Type.Optional(Audience),
    tenantId: Type.Optional(TenantId),
    accessTokenTtlSeconds: Type.Optional(AccessTokenTtl),
    idTokenSignedResponseAlg: Type.Optional(IdTokenAlg),
    ...TlsClientAuthFields,
    jwks: Type.Optional(ClientJwksSchema),
  },
  { additionalProperties: false },
);

export const UpdateClientBody = Type.Object(
  {
    name: Type.Optional(ClientName),
    redirectUris: Type.Optional(RedirectUris),
    allowedOrigins: Type.Optional(AllowedOrigins),
    postLogoutRedirectUris: Type.Optional(PostLogoutRedirectUris),
    grantTypes: Type.Optional(Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length * 2 })),
    scopes: Type.Optional(ClientScopes),
    tokenEndpointAuthMethod: Type.Optional(AuthMethodSchema),
    audiences: Type.Optional(Audiences),
    defaultAudience: Type.Optional(Nullable(Audience)),
    accessTokenTtlSeconds: Type.Optional(Nullable(AccessTokenTtl)),
    idTokenSignedResponseAlg: Type.Optional(IdTokenAlg),
    ...TlsClientAuthFields,
    jwks: Type.Optional(ClientJwksSchema),
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
    allowedOrigins: Type.Array(Type.String()),
    postLogoutRedirectUris: Type.Array(Type.String()),
    grantTypes: Type.Array(GrantTypeSchema),
    scopes: Type.Array(Type.String()),
    tokenEndpointAuthMethod: AuthMethodSchema,
    audiences: Type.Array(Type.String()),
    defaultAudience: Nullable(Type.String()),
    tenantId: Nullable(Type.String()),
    accessTokenTtlSeconds: Nullable(Type.Integer()),
    idTokenSignedResponseAlg: IdTokenAlg,
    ...TlsClientAuthFields,
    jwks: Type.Optional(ClientJwksSchema),
    secretPrefix: Nullable(Type.String({ description: 'Display prefix of the current secret; null for public and mTLS clients.' })),
    previousSecretExpiresAt: Nullable(Timestamp),
    registration: Type.Union([Type.Literal('admin'), Type.Literal('dynamic')], {
      description: 'admin: created through this API; dynamic: registered itself (RFC 7591, POST /oauth/register).',
    }),
    registeredAddress: Type.Optional(Type.String({ description: 'Dynamic clients: the address that registered it.' })),
    lastUsedAt: Type.Optional(Nullable(Timestamp)),
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
    allowedOrigins: client.allowedOrigins,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    audiences: client.audiences,
    defaultAudience: client.defaultAudience,
    tenantId: client.tenantId,
    accessTokenTtlSeconds: client.accessTokenTtlSeconds,
    idTokenSignedResponseAlg: client.idTokenSignedResponseAlg,
    ...tlsClientAuthView(client),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    secretPrefix: client.secretPrefix,
    previousSecretExpiresAt: previousLive ? toIso(client.previousSecretExpiresAt) : null,
    registration: client.registration,
    ...(client.registration === 'dynamic' && client.registeredAddress !== null ? { registeredAddress: client.registeredAddress } : {}),
    ...(client.registration === 'dynamic' ? { lastUsedAt: toIso(client.lastUsedAt) } : {}),
    createdAt: toIso(client.createdAt)!,
    updatedAt: toIso(client.updatedAt)!,
  };
}
