import { Type } from '@sinclair/typebox';
import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { UserIdParams } from '../../schemas/user.js';

export const RevokedGrants = Type.Object({ revokedGrants: Type.Integer({ description: 'How many live grants this call revoked.' }) });

/** Ends every grant a user gave any client: their refresh tokens stop, their access tokens are denied. */
export function registerRevokeUserGrants(app: App, services: Services): void {
  app.delete(
    '/v1/users/:id/grants',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: "Revoke all of a user's OAuth grants (refresh tokens and the access tokens issued from them)",
        security: [{ adminKey: [] }],
        params: UserIdParams,
        response: { 200: RevokedGrants, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      const user = await services.users.get(actor, request.params.id);
      const revoked = await revokeGrants(services.oauth, { userId: user.id }, {
        reason: 'revoked by an administrator',
        tenantId: user.tenantId,
        origin: actor.origin,
        actor,
      });
      return { revokedGrants: revoked.length };
    },
  );
}
