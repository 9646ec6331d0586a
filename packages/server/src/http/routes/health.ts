import { Type } from '@sinclair/typebox';
import type { Services } from '../../services.js';
import type { App } from '../app-types.js';

export function registerHealthRoutes(app: App, services: Services): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is running',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const Checks = Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]));
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: storage (and Redis, when configured) reachable',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), checks: Checks }),
          503: Type.Object({ status: Type.Literal('unavailable'), checks: Checks }),
        },
      },
    },
    async (_request, reply) => {
      const checks = await services.checkReadiness();
      const ready = Object.values(checks).every((state) => state === 'ok');
      return ready ? { status: 'ready' as const, checks } : reply.status(503).send({ status: 'unavailable' as const, checks });
    },
  );
}
