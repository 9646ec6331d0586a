import type { CommandGroup } from '../command.js';
import { emitList, timestamp } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse audit ...`: the audit log (/v1/audit-events). */

const columns: Column<any>[] = [
  ['TIME', (e) => e.occurredAt],
  ['TYPE', (e) => e.type],
  ['OUTCOME', (e) => e.outcome],
  ['REASON', (e) => e.reason],
  ['KEY', (e) => e.keyId],
  ['ACTOR', (e) => e.actorKeyId ?? e.actorUserId],
  ['TENANT', (e) => e.tenantId],
  ['IP', (e) => e.ip],
  ['ID', (e) => e.id],
];

export const auditGroup: CommandGroup = {
  name: 'audit',
  summary: 'The audit log.',
  commands: [
    {
      name: 'list',
      summary: 'List audit events, newest first',
      paginated: true,
      options: {
        type: { type: 'string', arg: 'TYPE', help: 'Only events of this type, e.g. key.revoked (docs/api-keys.md lists them)' },
        'key-id': { type: 'string', arg: 'KEY_ID', help: 'Only events about this key' },
        'client-id': { type: 'string', arg: 'CLIENT_ID', help: 'Only events about this OAuth client' },
        'user-id': { type: 'string', arg: 'USER_ID', help: 'Only events about this user or made by this admin user' },
        'actor-key-id': { type: 'string', arg: 'KEY_ID', help: 'Only events made by this admin key' },
        outcome: { type: 'string', arg: 'success|failure', help: 'Only successes or only failures' },
        since: { type: 'string', arg: 'TIME', help: 'Only events at or after this time (ISO 8601)' },
        until: { type: 'string', arg: 'TIME', help: 'Only events before this time (ISO 8601, exclusive)' },
      },
      examples: ['gatehouse audit list --type key.revoked --since 2026-12-01T00:00:00Z --all --json'],
      async run(context) {
        const o = context.options;
        await emitList(
          context,
          '/v1/audit-events',
          {
            type: o.type,
            keyId: o['key-id'],
            clientId: o['client-id'],
            userId: o['user-id'],
            actorKeyId: o['actor-key-id'],
            outcome: o.outcome,
            since: o.since === undefined ? undefined : timestamp(o.since, '--since'),
            until: o.until === undefined ? undefined : timestamp(o.until, '--until'),
          },
          columns,
        );
      },
    },
  ],
};
