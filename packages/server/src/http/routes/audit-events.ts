import { Type } from '@sinclair/typebox';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import { GatehouseError } from '../../core/errors.js';
import type { Services } from '../../services.js';
import type { App } from '../app-types.js';
import { decodeCursor, page, parseTimestamp } from '../cursor.js';
import { Cursor, errorResponses, Nullable, PageLimit, Timestamp, toIso } from '../schemas/common.js';

const AuditEventSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  occurredAt: Timestamp,
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  reason: Nullable(Type.String()),
  keyId: Nullable(Type.String()),
  keyPrefix: Nullable(Type.String()),
  actorKeyId: Nullable(Type.String({ description: 'The admin key that made the call.' })),
  actorUserId: Nullable(Type.String({ description: 'The admin user (signed in to the console) that made the call.' })),
  tenantId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  route: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  details: Nullable(Type.Record(Type.String(), Type.Unknown())),
});

const view = (event: AuditEvent) => ({ ...event, occurredAt: toIso(event.occurredAt)! });

/** `key.*`, `oauth.*`, ...: every family of event types, as a filter matching all of its types. */
const TYPE_FAMILIES = [...new Set(AUDIT_EVENT_TYPES.map((type) => `${type.slice(0, type.indexOf('.'))}.*`))];

export function registerAuditEvents(app: App, { stores, audit }: Services): void {
  app.get(
    '/v1/audit-events',
    {
      config: { scope: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          {
            type: Type.Optional(
              Type.Union([...AUDIT_EVENT_TYPES, ...TYPE_FAMILIES].map((type) => Type.Literal(type)), {
                description: 'One event type, or a family of them: `key.*` is every type beginning `key.`.',
              }),
            ),
            keyId: Type.Optional(Type.String({ pattern: '^key_[0-9A-Za-z]{1,64}$', description: 'Events about this API key.' })),
            outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
            clientId: Type.Optional(
              Type.String({ pattern: '^cli_[0-9A-Za-z]{1,64}$', description: 'Events about this OAuth client (`details.clientId`).' }),
            ),
            userId: Type.Optional(
              Type.String({
                pattern: '^usr_[0-9A-Za-z]{1,64}$',
                description: 'Events about this user (`details.userId`) or made by this admin user (`actorUserId`).',
              }),
            ),
            actorKeyId: Type.Optional(Type.String({ pattern: '^key_[0-9A-Za-z]{1,64}$', description: 'Events made by this admin key.' })),
            since: Type.Optional(Type.String({ format: 'date-time', description: 'Events that occurred at or after this time (RFC 3339).' })),
            until: Type.Optional(Type.String({ format: 'date-time', description: 'Events that occurred before this time (RFC 3339, exclusive); later than `since`.' })),
            limit: PageLimit(200, 50),
            cursor: Type.Optional(Cursor),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(AuditEventSchema), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, type, ...filters } = request.query;
      const typeFilter = type?.endsWith('.*') ? { typePrefix: type.slice(0, -1) } : { type: type as AuditEventType | undefined };
      const after = decodeCursor(cursor);
      const since = parseTimestamp(filters.since, 'since');
      const until = parseTimestamp(filters.until, 'until');
      if (since !== undefined && until !== undefined && until <= since) {
        throw new GatehouseError('invalid_request', 'until must be later than since.');
      }
      // Events of this process still waiting in the write-behind buffer are written first.
      await audit.flush();
      const tenantId = request.admin!.tenantId ?? undefined;
      const result = await page(
        limit,
        (n) => stores.audit.list({ ...filters, ...typeFilter, tenantId, since, until, limit: n, after }),
        (event) => ({ at: event.occurredAt, id: event.id }),
      );
      return { data: result.items.map(view), nextCursor: result.nextCursor };
    },
  );
}
