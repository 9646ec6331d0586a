import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { SigningKey, signingKeyView } from '../../schemas/signing-key.js';
import { assertGlobalAdmin } from './assert-global-admin.js';

export function registerListSigningKeys(app: App, { signingKeys }: Services): void {
  app.get(
    '/v1/signing-keys',
    {
      config: { scope: 'signing-keys:read' },
      schema: {
        tags: ['signing-keys'],
        summary: 'List JWT signing keys, oldest first, with their status',
        security: [{ adminKey: [] }],
        response: {
          200: Type.Object({ data: Type.Array(SigningKey) }),
          ...errorResponses(401, 403, 429),
        },
      },
    },
    async (request) => {
      assertGlobalAdmin(request.admin!);
      return { data: (await signingKeys.list()).map(signingKeyView) };
    },
  );
}
