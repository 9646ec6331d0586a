import { SIGNING_ALGS } from '../../core/tokens/signing-alg.js';
import type { CommandGroup } from '../command.js';
import { defined, emit, emitFullList, oneOf, optionalInteger, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse signing-keys ...`: the JWT signing keys (/v1/signing-keys). */

const columns: Column<any>[] = [
  ['KID', (k) => k.kid],
  ['ALG', (k) => k.alg],
  ['STATUS', (k) => k.status],
  ['CREATED', (k) => k.createdAt],
  ['ACTIVATES', (k) => k.activatesAt],
  ['RETIRED', (k) => k.retiredAt],
  ['PUBLISHED UNTIL', (k) => k.publishUntil],
];

export const signingKeysGroup: CommandGroup = {
  name: 'signing-keys',
  summary: 'JWT signing keys: list them, rotate to a new one.',
  commands: [
    {
      name: 'list',
      summary: 'List the signing keys (pending, active, retired)',
      async run(context) {
        await emitFullList(context, '/v1/signing-keys', columns);
      },
    },
    {
      name: 'rotate',
      summary: 'Create a new signing key: published at once, signing after the activation delay',
      options: {
        alg: { type: 'string', arg: 'ALG', help: `${SIGNING_ALGS.join(' | ')} (default: the server's GATEHOUSE_SIGNING_ALG)` },
        'activate-after': { type: 'string', arg: 'SECONDS', help: "Publish this long before signing (default: the server's activation delay)" },
      },
      async run(context) {
        const body = defined({
          alg: oneOf(context.options.alg, SIGNING_ALGS, '--alg'),
          activateAfterSeconds: optionalInteger(context.options['activate-after'], '--activate-after'),
        });
        const key = await context.api.call('POST', '/v1/signing-keys/rotate', { body });
        emit(context, key, () => record(key));
      },
    },
  ],
};
