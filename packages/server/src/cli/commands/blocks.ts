import type { CommandGroup } from '../command.js';
import { emit, emitFullList, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse blocks ...`: client addresses blocked after failed authentications (/v1/blocks). */

const columns: Column<any>[] = [
  ['IP', (b) => b.ip],
  ['REASON', (b) => b.reason],
  ['FAILURES', (b) => b.failures],
  ['CREATED', (b) => b.createdAt],
  ['EXPIRES', (b) => b.expiresAt],
];

export const blocksGroup: CommandGroup = {
  name: 'blocks',
  summary: 'IP blocks: list the blocked client addresses, lift a block.',
  commands: [
    {
      name: 'list',
      summary: 'List the IP blocks in force',
      async run(context) {
        await emitFullList(context, '/v1/blocks', columns);
      },
    },
    {
      name: 'delete',
      summary: 'Lift the block of an address (an IPv6 address lifts its /64)',
      args: ['IP'],
      async run(context) {
        const block = await context.api.call('DELETE', `/v1/blocks/${encodeURIComponent(context.args[0]!)}`);
        emit(context, block, () => record(block));
      },
    },
  ],
};
