import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ipBlockedError } from '../../core/errors.js';
import type { Services } from '../../services.js';

/**
 * Refuses every request from a blocked client address (429 ip_blocked with Retry-After) at onRequest, before
 * authentication or any body is read: a blocked address gets no credential checked. The address is the socket's,
 * or the one X-Forwarded-For names when GATEHOUSE_TRUST_PROXY trusts the hop (Fastify's request.ip). Nothing is
 * computed while nothing is blocked.
 */
export const ipBlockPlugin = fp(async (app: FastifyInstance, { services }: { services: Services }) => {
  const { blocks } = services.detection;
  app.addHook('onRequest', (request, _reply, done) => {
    if (blocks.size === 0) return done();
    const seconds = blocks.retryAfterSeconds(request.ip);
    if (seconds === 0) return done();
    services.metrics.blockedRequest();
    done(ipBlockedError(seconds));
  });
}, { name: 'gatehouse-ip-block', dependencies: ['gatehouse-error-handler'] });
