import { Type } from '@sinclair/typebox';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, MAX_SCOPES, MIN_ACCESS_TOKEN_TTL_SECONDS } from '../../core/oauth/client-metadata.js';
import { MAX_RESOURCE_IDENTIFIER_LENGTH, MAX_RESOURCE_NAME_LENGTH } from '../../core/resources/resource-fields.js';
import type { ResourceRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

// Per-item rules (absolute URI without fragment, scope-token syntax) are checked in core/resources/resource-fields.ts,
// which names the offending value in the error.
const Identifier = Type.String({
  minLength: 1,
  maxLength: MAX_RESOURCE_IDENTIFIER_LENGTH,
  description:
    'The RFC 8707 resource indicator: an absolute URI without a fragment, e.g. the MCP server URL. Compared exactly; unique among resources.',
});
const ResourceName = Text({ minLength: 1, maxLength: MAX_RESOURCE_NAME_LENGTH });
const ResourceScopes = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  maxItems: MAX_SCOPES,
  description: "The API's scopes (RFC 6749 scope tokens): what tokens for it may carry, and what its protected resource metadata lists.",
});
const DynamicClients = Type.Boolean({
  description:
    'Clients that registered themselves (Dynamic Client Registration, Client ID Metadata Documents) may ask for this resource. Default false.',
});
const AccessTokenTtl = Type.Integer({
  minimum: MIN_ACCESS_TOKEN_TTL_SECONDS,
  maximum: MAX_ACCESS_TOKEN_TTL_SECONDS,
  description: 'Caps the lifetime of access tokens for this resource (the shorter of this and the client\'s wins).',
});

export const CreateResourceBody = Type.Object(
  {
    identifier: Identifier,
    name: ResourceName,
    scopes: Type.Optional(ResourceScopes),
    dynamicClients: Type.Optional(DynamicClients),
    accessTokenTtlSeconds: Type.Optional(Nullable(AccessTokenTtl)),
    tenantId: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);

export const UpdateResourceBody = Type.Object(
  {
    identifier: Type.Optional(Identifier),
    name: Type.Optional(ResourceName),
    scopes: Type.Optional(ResourceScopes),
    dynamicClients: Type.Optional(DynamicClients),
    accessTokenTtlSeconds: Type.Optional(Nullable(AccessTokenTtl)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ResourceIdParams = Type.Object({ id: Type.String({ pattern: '^res_[0-9A-Za-z]{1,64}$' }) });

export const ResourceSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('resource'),
    identifier: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.String()),
    dynamicClients: Type.Boolean(),
    accessTokenTtlSeconds: Nullable(Type.Integer()),
    tenantId: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A resource (RFC 8707): an API tokens are issued for, with its scopes.' },
);

export function resourceView(resource: ResourceRecord) {
  return {
    id: resource.id,
    object: 'resource' as const,
    identifier: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    dynamicClients: resource.dynamicClients,
    accessTokenTtlSeconds: resource.accessTokenTtlSeconds,
    tenantId: resource.tenantId,
    createdAt: toIso(resource.createdAt)!,
    updatedAt: toIso(resource.updatedAt)!,
  };
}
