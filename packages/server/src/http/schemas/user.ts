import { Type } from '@sinclair/typebox';
import { MANAGEMENT_SCOPES } from '../../core/api-keys/management-scopes.js';
import type { SessionRecord, UserRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

export const User = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('user'),
    email: Type.String({ description: 'Normalised: trimmed and lowercased.' }),
    name: Nullable(Type.String()),
    tenantId: Nullable(Type.String()),
    disabled: Type.Boolean({ description: 'A disabled user cannot sign in; its sessions and grants ended when it was disabled.' }),
    adminScopes: Type.Array(Type.String(), {
      description: "The user's admin roles: the management scopes it holds on the admin API when signed in to the console, within its tenant (none: every tenant). Empty: not an administrator.",
    }),
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
    disabled: user.disabledAt !== null,
    adminScopes: user.adminScopes,
    createdAt: toIso(user.createdAt)!,
    updatedAt: toIso(user.updatedAt)!,
  };
}

const AdminScopes = Type.Array(Type.String({ maxLength: 64 }), {
  maxItems: MANAGEMENT_SCOPES.length,
  description:
    `Admin roles: management scopes (${MANAGEMENT_SCOPES.join(', ')}; admin implies every one), held within the user's tenant. ` +
    'The caller must hold each one itself, and may not change a user who holds more than it does.',
});

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
    adminScopes: Type.Optional(AdminScopes),
  },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Text({ minLength: 3, maxLength: 320, description: 'Trimmed and lowercased before it is stored; unique.' })),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: "As at creation. Setting it ends the user's login sessions (they sign in again with the new one).",
      }),
    ),
    name: Type.Optional(Nullable(Text({ minLength: 1, maxLength: 128 }))),
    disabled: Type.Optional(
      Type.Boolean({ description: "true: the user cannot sign in, and its login sessions, grants and tokens end. false: it can sign in again." }),
    ),
    adminScopes: Type.Optional(AdminScopes),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const UserIdParams = Type.Object({ id: Type.String({ pattern: '^usr_[0-9A-Za-z]{1,64}$' }) });

export const SessionParams = Type.Object({
  id: Type.String({ pattern: '^usr_[0-9A-Za-z]{1,64}$' }),
  sessionId: Type.String({ pattern: '^ses_[0-9A-Za-z]{1,64}$' }),
});

export const Session = Type.Object(
  {
    id: Type.String({ description: 'The session\'s public id; the cookie and its hash are never answered.' }),
    object: Type.Literal('session'),
    userId: Type.String(),
    authTime: Timestamp,
    createdAt: Timestamp,
    expiresAt: Timestamp,
  },
  { description: "A live login session of a user (the browser cookie on Gatehouse's login pages)." },
);

export function sessionView(session: SessionRecord) {
  return {
    id: session.id,
    object: 'session' as const,
    userId: session.userId,
    authTime: toIso(session.authTime)!,
    createdAt: toIso(session.createdAt)!,
    expiresAt: toIso(session.expiresAt)!,
  };
}
