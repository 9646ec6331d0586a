import { Type, type Static } from '@sinclair/typebox';
import { issuerBase } from '../../config/issuer-path.js';
import type { OAuthClientRecord } from '../../storage/stores.js';

/** RFC 7591 section 2: the request's client metadata. Documentation: the fields are checked by registration-request.ts. */
export const RegistrationRequestBody = Type.Object(
  {
    redirect_uris: Type.Optional(Type.Array(Type.String())),
    token_endpoint_auth_method: Type.Optional(Type.String({ description: 'none (public client), client_secret_basic or client_secret_post.' })),
    grant_types: Type.Optional(Type.Array(Type.String())),
    response_types: Type.Optional(Type.Array(Type.String())),
    client_name: Type.Optional(Type.String()),
    client_uri: Type.Optional(Type.String()),
    logo_uri: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
    contacts: Type.Optional(Type.Array(Type.String())),
    tos_uri: Type.Optional(Type.String()),
    policy_uri: Type.Optional(Type.String()),
    software_id: Type.Optional(Type.String()),
    software_version: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String({ description: 'PUT only: the id of the client being updated.' })),
    client_secret: Type.Optional(Type.String({ description: "PUT only: if sent, the client's current secret." })),
  },
  { additionalProperties: true, description: 'RFC 7591 client metadata; unknown fields are ignored.' },
);

/** RFC 7591 section 3.2.1 / RFC 7592 section 3: the client information response. */
export const RegistrationResponse = Type.Object({
  client_id: Type.String(),
  client_id_issued_at: Type.Integer(),
  client_secret: Type.Optional(Type.String({ description: 'Confidential clients, in the registration response only.' })),
  client_secret_expires_at: Type.Optional(Type.Integer({ description: '0: the secret does not expire.' })),
  registration_access_token: Type.Optional(Type.String({ description: 'In the registration response only; keep it to read, update and delete the client.' })),
  registration_client_uri: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.String(),
  grant_types: Type.Array(Type.String()),
  response_types: Type.Array(Type.String()),
  client_name: Type.String(),
  client_uri: Type.Optional(Type.String()),
  logo_uri: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  contacts: Type.Optional(Type.Array(Type.String())),
  tos_uri: Type.Optional(Type.String()),
  policy_uri: Type.Optional(Type.String()),
  software_id: Type.Optional(Type.String()),
  software_version: Type.Optional(Type.String()),
});

export const RegisteredClientParams = Type.Object({ clientId: Type.String({ maxLength: 64 }) });

/** `{issuer}/oauth/register/{client_id}`. */
export const registrationClientUri = (issuer: string, clientId: string): string => `${issuerBase(issuer)}/oauth/register/${clientId}`;

/** A dynamic client as RFC 7591 / 7592 show it; secrets only when given (at registration). */
export function registrationView(
  client: OAuthClientRecord,
  issuer: string,
  secrets: { clientSecret?: string | null; registrationAccessToken?: string } = {},
): Static<typeof RegistrationResponse> {
  const meta = client.registrationMetadata ?? {};
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    ...(secrets.clientSecret ? { client_secret: secrets.clientSecret } : {}),
    ...(client.secretHash !== null ? { client_secret_expires_at: 0 } : {}),
    ...(secrets.registrationAccessToken ? { registration_access_token: secrets.registrationAccessToken } : {}),
    registration_client_uri: registrationClientUri(issuer, client.id),
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    client_name: client.name,
    ...(meta.clientUri !== undefined ? { client_uri: meta.clientUri } : {}),
    ...(meta.logoUri !== undefined ? { logo_uri: meta.logoUri } : {}),
    ...(client.scopes.length > 0 ? { scope: client.scopes.join(' ') } : {}),
    ...(meta.contacts !== undefined ? { contacts: meta.contacts } : {}),
    ...(meta.tosUri !== undefined ? { tos_uri: meta.tosUri } : {}),
    ...(meta.policyUri !== undefined ? { policy_uri: meta.policyUri } : {}),
    ...(meta.softwareId !== undefined ? { software_id: meta.softwareId } : {}),
    ...(meta.softwareVersion !== undefined ? { software_version: meta.softwareVersion } : {}),
  };
}
