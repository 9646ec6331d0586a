import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditEvent, ObservedAuditEvent } from '../../core/audit/audit-event.js';
import type { WriteBehindLog } from '../../core/write-behind-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The audit log's running count when the request arrived (durable-audit.ts). */
    auditMark: number;
  }
}

/**
 * No answer leaves before the audit events it caused are written. Failures, denials and anomalies are audited one
 * event each, written behind in batches; a response waits for the batch that holds its events (a group commit:
 * every request waiting meanwhile shares one write), so a process killed after answering has lost no event of a
 * failure it answered (docs/failure-modes.md). A request that added nothing (a success: the usage counters count
 * it) waits for nothing. Whether the write succeeded does not change the answer: a failed batch stays buffered
 * and is retried, and the outage is logged and shown by /readyz.
 */
export const durableAuditPlugin = fp(
  async (app: FastifyInstance, { audit }: { audit: WriteBehindLog<AuditEvent, ObservedAuditEvent> }) => {
    app.decorateRequest('auditMark', 0);
    app.addHook('onRequest', (request, _reply, done) => {
      request.auditMark = audit.added;
      done();
    });
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (audit.added === request.auditMark) return done(null, payload);
      audit.flush().then(
        () => done(null, payload),
        () => done(null, payload),
      );
    });
  },
  { name: 'gatehouse-durable-audit' },
);
