import { Type } from '@sinclair/typebox';
import type { UserRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

export const User = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('user'),
    email: Type.String({ description: 'Normalised: trimmed and lowercased.' }),
    name: Nullable(Type.String()),
    tenantId: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A user who can sign in on the login page. Never includes the password or its hash.' },
);

export function userView(user: UserRecord) {
  return {
    id: user.id,
    object: 'user' as const,
    email: user.email,
    name: user.name,
    tenantId: user.tenantId,
    createdAt: toIso(user.createdAt)!,
    updatedAt: toIso(user.updatedAt)!,
  };
}

export const CreateUserBody = Type.Object(
  {
    email: Text({ minLength: 3, maxLength: 320, description: 'Trimmed and lowercased before it is stored; unique.' }),
    password: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: '8 to 1024 characters after NFKC normalisation; no control characters. Stored only as a scrypt hash.',
    }),
    name: Type.Optional(Text({ minLength: 1, maxLength: 128 })),
    tenantId: Type.Optional(TenantId),
  },
  { additionalProperties: false },
);

export const UserIdParams = Type.Object({ id: Type.String({ pattern: '^usr_[0-9A-Za-z]{1,64}$' }) });
