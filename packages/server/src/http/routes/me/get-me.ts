import { Type } from '@sinclair/typebox';
import { isManagementScope } from '../../../core/api-keys/management-scopes.js';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ANY_MANAGEMENT_SCOPE } from '../../plugins/authenticate.js';
import { errorResponses, Nullable } from '../../schemas/common.js';

export const Me = Type.Object(
  {
    kind: Type.Union([Type.Literal('key'), Type.Literal('user')], { description: 'An admin key, or an admin user signed in to the console.' }),
    id: Type.String({ description: 'The key id (`key_...`) or user id (`usr_...`).' }),
    name: Nullable(Type.String()),
    email: Nullable(Type.String({ description: "The user's email; null for a key." })),
    tenantId: Nullable(Type.String({ description: 'The tenant the caller is bound to; null: every tenant.' })),
    scopes: Type.Array(Type.String(), {
      description: "The management scopes the caller holds now (a user's: its admin roles; a key's other scopes are left out); `admin` implies every one.",
    }),
  },
  { description: 'Who is calling the admin API, and what it may do.' },
);

/** GET /v1/me: the calling admin credential, for the console to show what the caller may do. */
export function registerGetMe(app: App, { stores }: Services): void {
  app.get(
    '/v1/me',
    {
      config: { scope: ANY_MANAGEMENT_SCOPE },
      schema: {
        tags: ['me'],
        summary: 'The calling admin key or admin user',
        description: 'Any admin credential (a key or a console access token holding at least one management scope) may ask.',
        security: [{ adminKey: [] }],
        response: { 200: Me, ...errorResponses(401, 403, 429, 503) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      const scopes = actor.scopes.filter(isManagementScope);
      if (actor.userId !== null) {
        const user = await stores.users.findById(actor.userId);
        if (!user) throw new GatehouseError('not_found', 'No such user.');
        return { kind: 'user' as const, id: user.id, name: user.name, email: user.email, tenantId: actor.tenantId, scopes };
      }
      const key = await stores.apiKeys.findById(actor.keyId!);
      return { kind: 'key' as const, id: actor.keyId!, name: key?.name ?? null, email: null, tenantId: actor.tenantId, scopes };
    },
  );
}
