import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';

/** Public: the PEM bundle of every trusted root (the issuing one first), for clients' trust stores. */
export function registerGetCaCertificates(app: App, { ca }: Services): void {
  app.get(
    '/v1/ca/certificates',
    {
      schema: {
        tags: ['certificates'],
        summary: 'The CA certificates (PEM bundle): trust these for the TLS listener and for issued client certificates',
        description:
          'During a rotation the new root and the previous ones are published together (newest first) until every ' +
          'certificate the previous ones issued has expired. Empty until the CA is initialised.',
        response: { 200: Type.String({ description: 'application/pem-certificate-chain' }) },
      },
    },
    async (_request, reply) => {
      reply.headers({ 'content-type': 'application/pem-certificate-chain', 'cache-control': 'public, max-age=300' });
      return reply.send(ca.bundlePem());
    },
  );
}
