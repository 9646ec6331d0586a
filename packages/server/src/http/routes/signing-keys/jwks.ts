import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { Jwks } from '../../schemas/signing-key.js';

/** Public: the keys that verify Gatehouse tokens, served from memory, pre-serialized. Readable from any web origin
 * (CORS: http/plugins/cors.ts). */
export function registerJwks(app: App, { signingKeys }: Services): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['tokens'],
        summary: 'JWK Set: the public keys that verify access and ID tokens',
        description:
          'A key is published here before it signs anything, and stays published until every token it signed has ' +
          'expired. Clients should refetch when they meet an unknown `kid`.',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.headers({
        'content-type': 'application/jwk-set+json',
        'cache-control': 'public, max-age=300',
      });
      // A string is sent as it is (no schema serialization): the JSON is built once per key-set change.
      return reply.send(signingKeys.jwksJson() as never);
    },
  );
}
