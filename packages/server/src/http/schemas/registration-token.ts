import { Type } from '@sinclair/typebox';
import { MAX_REGISTRATION_TOKEN_TTL_SECONDS, MAX_REGISTRATION_TOKEN_USES, registrationTokenStatus } from '../../core/oauth/registration-token-service.js';
import type { RegistrationTokenRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

export const CreateRegistrationTokenBody = Type.Object(
  {
    name: Text({ minLength: 1, maxLength: 200, description: 'What the token is for (shown in lists and audit events).' }),
    tenantId: Type.Optional(TenantId),
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_REGISTRATION_TOKEN_TTL_SECONDS, description: 'Unset: never expires.' })),
    maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REGISTRATION_TOKEN_USES, description: 'Registrations it admits; unset: no limit.' })),
  },
  { additionalProperties: false },
);

export const RegistrationTokenSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('registration_token'),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the token (iat_ + 6), for recognising it.' }),
    tenantId: Nullable(Type.String()),
    status: Type.Union(['active', 'expired', 'used_up', 'revoked'].map((s) => Type.Literal(s))),
    uses: Type.Integer(),
    maxUses: Nullable(Type.Integer()),
    expiresAt: Nullable(Timestamp),
    revokedAt: Nullable(Timestamp),
    createdBy: Nullable(Type.String()),
    createdAt: Timestamp,
  },
  { description: 'An initial access token for Dynamic Client Registration (RFC 7591). Never includes the token or its hash.' },
);

export const RegistrationTokenWithSecret = Type.Composite([
  RegistrationTokenSchema,
  Type.Object({ token: Type.String({ description: 'The initial access token. Shown this once; hand it to whoever registers.' }) }),
]);

export const RegistrationTokenIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function registrationTokenView(token: RegistrationTokenRecord, now: number) {
  return {
    id: token.id,
    object: 'registration_token' as const,
    name: token.name,
    prefix: token.displayPrefix,
    tenantId: token.tenantId,
    status: registrationTokenStatus(token, now),
    uses: token.uses,
    maxUses: token.maxUses,
    expiresAt: toIso(token.expiresAt),
    revokedAt: toIso(token.revokedAt),
    createdBy: token.createdBy,
    createdAt: toIso(token.createdAt)!,
  };
}
