import { Type } from '@sinclair/typebox';
import { keyStatus } from '../../core/api-keys/key-status.js';
import { VERIFY_CODES, type ApiKeyVerification } from '../../core/api-keys/verify-api-key.js';
import type { ApiKeyRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

export const Scope = Type.String({ pattern: '^[A-Za-z0-9_.:/*-]{1,64}$' });
export const Scopes = Type.Array(Scope, { maxItems: 50, description: 'Scopes the key holds.' });
export const Environment = Type.Union([Type.Literal('live'), Type.Literal('test')]);

export const RateLimit = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  },
  { additionalProperties: false, description: 'At most `limit` verifications per `windowSeconds` (GCRA).' },
);

export const Metadata = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }),
  Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean(), Type.Null()]),
  { maxProperties: 50, description: 'Up to 50 keys of your own data; never interpreted by Gatehouse.' },
);

export const KeyName = Text({ minLength: 1, maxLength: 128 });

export const AnomalyActionSchema = Type.Union([Type.Literal('notify'), Type.Literal('revoke')], {
  description:
    'What happens when the key looks compromised (used from a new network, a rate spike): notify raises ' +
    'alert.key_anomaly; revoke raises it and revokes the key. See docs/protection.md.',
});

export const ApiKey = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('api_key'),
    name: Type.String(),
    prefix: Type.String({ description: 'Display prefix: recognises the key, cannot be used as it.' }),
    environment: Environment,
    scopes: Type.Array(Type.String()),
    tenantId: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    rateLimit: Nullable(RateLimit),
    status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    expiresAt: Nullable(Timestamp),
    revokedAt: Nullable(Timestamp),
    lastUsedAt: Nullable(Timestamp),
    rotatedFromId: Nullable(Type.String()),
    rotatedToId: Nullable(Type.String()),
    anomalyAction: AnomalyActionSchema,
  },
  { description: 'An API key. Never includes the plaintext key or its hash.' },
);

export const ApiKeyWithSecret = Type.Composite([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'The plaintext key. Shown this once; store it now.' }) }),
]);

export function apiKeyView(key: ApiKeyRecord, now: number, pendingLastUsedAt?: number) {
  const lastUsedAt = Math.max(key.lastUsedAt ?? 0, pendingLastUsedAt ?? 0) || null;
  return {
    id: key.id,
    object: 'api_key' as const,
    name: key.name,
    prefix: key.displayPrefix,
    environment: key.environment,
    scopes: key.scopes,
    tenantId: key.tenantId,
    metadata: key.metadata,
    rateLimit: key.rateLimit,
    status: keyStatus(key, now),
    createdAt: toIso(key.createdAt)!,
    updatedAt: toIso(key.updatedAt)!,
    expiresAt: toIso(key.expiresAt),
    revokedAt: toIso(key.revokedAt),
    lastUsedAt: toIso(lastUsedAt),
    rotatedFromId: key.rotatedFromId,
    rotatedToId: key.rotatedToId,
    anomalyAction: key.anomalyAction,
  };
}

export const CreateKeyBody = Type.Object(
  {
    name: KeyName,
    scopes: Type.Optional(Scopes),
    environment: Type.Optional(Environment),
    tenantId: Type.Optional(TenantId),
    expiresAt: Type.Optional(Timestamp),
    rateLimit: Type.Optional(RateLimit),
    metadata: Type.Optional(Metadata),
    anomalyAction: Type.Optional(AnomalyActionSchema),
  },
  { additionalProperties: false },
);

export const UpdateKeyBody = Type.Object(
  {
    name: Type.Optional(KeyName),
    scopes: Type.Optional(Scopes),
    rateLimit: Type.Optional(Nullable(RateLimit)),
    metadata: Type.Optional(Metadata),
    expiresAt: Type.Optional(Nullable(Timestamp)),
    anomalyAction: Type.Optional(AnomalyActionSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const KeyIdParams = Type.Object({ id: Type.String({ pattern: '^key_[0-9A-Za-z]{1,64}$' }) });

export const VerifyKeyBody = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 256, description: 'The key to verify, as the caller presented it.' }),
    scopes: Type.Optional(Type.Array(Scope, { maxItems: 50, description: 'Scopes the key must all hold.' })),
    clientIp: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 64,
        description:
          'The address of the client that presented the key, when you verify on its behalf: failed verifications ' +
          'are counted against it rather than against your server, and a blocked address is answered 429 ip_blocked.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const VerifyKeyResponse = Type.Object({
  valid: Type.Boolean(),
  code: Type.Union(VERIFY_CODES.map((code) => Type.Literal(code))),
  keyId: Nullable(Type.String()),
  tenantId: Nullable(Type.String()),
  environment: Nullable(Environment),
  name: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
  expiresAt: Nullable(Timestamp),
  rateLimit: Nullable(
    Type.Object({
      limit: Type.Integer(),
      remaining: Type.Integer(),
      reset: Type.Integer({ description: 'Unix time (seconds) at which the full limit is available again.' }),
      retryAfter: Type.Integer({
        minimum: 0,
        description: 'Seconds until the next request is allowed: 0 when this one was allowed, at least 1 when RATE_LIMITED.',
      }),
    }),
  ),
});

/** A verification result as the verify endpoint answers it. Keys that were not found reveal nothing. */
export function verificationView(result: ApiKeyVerification, now: number) {
  const key = result.key;
  return {
    valid: result.valid,
    code: result.code,
    keyId: key?.id ?? null,
    tenantId: key?.tenantId ?? null,
    environment: key?.environment ?? null,
    name: key?.name ?? null,
    scopes: key?.scopes ?? [],
    metadata: key?.metadata ?? null,
    expiresAt: toIso(key?.expiresAt ?? null),
    rateLimit: result.rateLimit && {
      limit: result.rateLimit.limit,
      remaining: result.rateLimit.remaining,
      reset: Math.ceil(now / 1000) + result.rateLimit.resetSeconds,
      retryAfter: result.rateLimit.retryAfterSeconds,
    },
  };
}
