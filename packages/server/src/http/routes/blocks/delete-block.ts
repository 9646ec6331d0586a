import { parseClientKey } from '../../../core/detection/ip-address.js';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { IpBlock, ipBlockView, IpParams } from '../../schemas/ip-block.js';
import { assertGlobalAdmin } from '../signing-keys/assert-global-admin.js';
import { BLOCKS_ARE_GLOBAL } from './list-blocks.js';

export function registerDeleteBlock(app: App, { detection }: Services): void {
  app.delete(
    '/v1/blocks/:ip',
    {
      config: { scope: 'blocks:write' },
      schema: {
        tags: ['blocks'],
        summary: 'Unblock a client address at once, on every server process',
        description: 'Answers the block that ended; 404 when the address was not blocked.',
        security: [{ adminKey: [] }],
        params: IpParams,
        response: { 200: IpBlock, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const auth = request.admin!;
      assertGlobalAdmin(auth, BLOCKS_ARE_GLOBAL);
      const ip = parseClientKey(request.params.ip);
      if (ip === undefined) throw new GatehouseError('invalid_request', 'The path must name an IPv4 or IPv6 address, or an IPv6 /64.');
      const removed = await detection.blocks.unblock(ip, auth, auth.origin);
      if (!removed) throw new GatehouseError('not_found', 'That address is not blocked.');
      return ipBlockView(removed);
    },
  );
}
