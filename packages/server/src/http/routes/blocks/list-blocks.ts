import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { IpBlock, ipBlockView } from '../../schemas/ip-block.js';
import { assertGlobalAdmin } from '../signing-keys/assert-global-admin.js';

export const BLOCKS_ARE_GLOBAL = "IP blocks apply to every tenant: a tenant's key cannot manage them.";

export function registerListBlocks(app: App, { detection }: Services): void {
  app.get(
    '/v1/blocks',
    {
      config: { scope: 'blocks:read' },
      schema: {
        tags: ['blocks'],
        summary: 'List the client addresses blocked now, soonest to end first',
        security: [{ adminKey: [] }],
        response: { 200: Type.Object({ data: Type.Array(IpBlock) }), ...errorResponses(401, 403, 429, 503) },
      },
    },
    async (request) => {
      assertGlobalAdmin(request.admin!, BLOCKS_ARE_GLOBAL);
      return { data: (await detection.blocks.list()).map(ipBlockView) };
    },
  );
}
