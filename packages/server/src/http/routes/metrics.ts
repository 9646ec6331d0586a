import { Type } from '@sinclair/typebox';
import { GatehouseError } from '../../core/errors.js';
import type { Services } from '../../services.js';
import type { App } from '../app-types.js';
import { errorResponses } from '../schemas/common.js';

export const METRICS_PATH = '/metrics';

/**
 * Prometheus metrics on the API port, for a global (not tenant-bound) admin key holding metrics:read.
 * GATEHOUSE_METRICS_PORT serves the same text without authentication on a port of its own (metrics-server.ts).
 */
export function registerMetrics(app: App, { metrics }: Services): void {
  app.get(
    METRICS_PATH,
    {
      config: { scope: 'metrics:read' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          'The Prometheus text exposition format: authentications by method and outcome, verification latency, ' +
          'rate-limit rejections, tokens issued, cache hits, process and event-loop metrics. See docs/observability.md.',
        security: [{ adminKey: [] }],
        response: {
          200: {
            description: 'Metrics in the Prometheus text format (version 0.0.4).',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errorResponses(401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      if (request.admin!.tenantId !== null) {
        throw new GatehouseError('insufficient_scope', "Metrics cover every tenant: a tenant's key cannot read them.");
      }
      return reply.type(metrics.contentType).send(await metrics.render());
    },
  );
}
