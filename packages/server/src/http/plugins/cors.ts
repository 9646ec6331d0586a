import type { FastifyInstance, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { decideCors, type CorsDecision, type CorsEndpoint } from '../../core/oauth/cors-decision.js';
import { OAuthError } from '../../core/errors.js';
import type { Services } from '../../services.js';

/**
 * CORS, in one place: the endpoints a browser app calls, the preflights they answer (OPTIONS), and the headers of
 * their answers. The decision is core/oauth/cors-decision.ts; docs/oauth.md "Browser apps (CORS)" explains it.
 * Every other route (the authorization endpoint, the login and consent pages, introspection, the admin API)
 * sends no CORS header, and its preflight finds no OPTIONS route (404): a browser refuses the call.
 */
export const BROWSER_ENDPOINTS: Readonly<Record<string, { endpoint: CorsEndpoint; methods: readonly string[] }>> = {
  '/.well-known/oauth-authorization-server': { endpoint: 'public', methods: ['GET'] },
  '/.well-known/openid-configuration': { endpoint: 'public', methods: ['GET'] },
  '/.well-known/jwks.json': { endpoint: 'public', methods: ['GET'] },
  '/oauth/resource-metadata': { endpoint: 'public', methods: ['GET'] },
  '/oauth/token': { endpoint: 'client', methods: ['POST'] },
  '/oauth/revoke': { endpoint: 'client', methods: ['POST'] },
  '/oauth/userinfo': { endpoint: 'client', methods: ['GET', 'POST'] },
};

/** Per request on a client endpoint: the headers its answer gets (set once its client is known). */
const pending = new WeakMap<FastifyRequest, Record<string, string>>();
/** Per request on a client endpoint: what the plugin needs to decide once the client is known. */
const clientEndpoint = new WeakMap<FastifyRequest, { methods: readonly string[]; ownOrigins: readonly string[] }>();

/**
 * Gatehouse's own origins, parsed again only when the issuer or the mTLS URL changes (the issuer is set once the
 * listener knows its port): two URL parses per request were the largest part of this plugin's cost on the token
 * endpoint.
 */
function ownOriginsOf(services: Services): () => readonly string[] {
  let issuer: string | undefined;
  let mtlsUrl: string | undefined;
  let origins: readonly string[] = [];
  return () => {
    const config = services.config;
    if (config.issuer !== issuer || config.mtlsUrl !== mtlsUrl) {
      issuer = config.issuer;
      mtlsUrl = config.mtlsUrl;
      origins = [new URL(issuer).origin, ...(mtlsUrl ? [new URL(mtlsUrl).origin] : [])];
    }
    return origins;
  };
}

/** What a client endpoint's answer carries whatever the client: caches must keep one answer per Origin. */
const VARY_ORIGIN = { vary: 'Origin' } as const;

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function originOf(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  return typeof origin === 'string' ? origin : undefined;
}

/**
 * A client endpoint (token, revocation, userinfo) now knows its client: allows the request's Origin if the client
 * registered it. With `enforce` (token, revocation: requests with effects), a cross-origin request from an origin
 * the client did not register is refused here, before anything happens, with 400 unauthorized_client and no
 * Access-Control-Allow-Origin (the page sees a network error). A no-op for a request without Origin (its answer is
 * already decided: Vary: Origin only) and on other routes (introspection).
 */
export function allowClientOrigin(
  request: FastifyRequest,
  clientOrigins: readonly string[],
  options: { enforce: boolean; onRefused?: (origin: string) => void },
): void {
  const endpoint = clientEndpoint.get(request);
  if (endpoint === undefined) return;
  const origin = originOf(request);
  const decision = decideCors({ endpoint: 'client', methods: endpoint.methods, preflight: false, origin, ownOrigins: endpoint.ownOrigins, clientOrigins });
  pending.set(request, decision.headers);
  if (decision.outcome === 'refused' && options.enforce) {
    options.onRefused?.(origin!);
    throw new OAuthError('unauthorized_client', 'This client is not registered for requests from this web origin (allowedOrigins).');
  }
}

export const corsPlugin = fp(
  async (app: FastifyInstance, { services }: { services: Services }) => {
    const onSend: onSendHookHandler = (request, reply, payload, done) => {
      const headers = pending.get(request);
      if (headers !== undefined) reply.headers(headers);
      done(null, payload);
    };
    const ownOrigins = ownOriginsOf(services);
    // Hooks on the browser endpoints' own routes only: the other routes (the verify hot path among them) pay nothing.
    app.addHook('onRoute', (route) => {
      const entry = BROWSER_ENDPOINTS[route.url];
      if (entry === undefined || route.method === 'OPTIONS') return;
      const onRequest: onRequestHookHandler = (request, reply, done) => {
        const origin = originOf(request);
        if (origin === undefined && entry.endpoint === 'client') {
          // No Origin (a server, not a page: the token endpoint's usual caller): not a cross-origin request, whatever
          // the client turns out to be (decideCors's same_origin), so nothing is left to decide per request.
          reply.headers(VARY_ORIGIN);
          return done();
        }
        const decision = decideCors({ ...entry, preflight: false, origin, ownOrigins: ownOrigins() });
        if (entry.endpoint === 'public') {
          reply.headers(decision.headers);
        } else {
          clientEndpoint.set(request, { methods: entry.methods, ownOrigins: ownOrigins() });
          // Until the client is known (and if it never is: a failed client authentication), no origin is allowed.
          pending.set(request, decision.headers);
        }
        done();
      };
      route.onRequest = [...asArray(route.onRequest), onRequest];
      if (entry.endpoint === 'client') route.onSend = [...asArray(route.onSend), onSend];
    });
    for (const [url, entry] of Object.entries(BROWSER_ENDPOINTS)) {
      app.options(url, { schema: { hide: true } }, async (request, reply) => {
        const decision: CorsDecision = decideCors({
          ...entry,
          preflight: request.headers['access-control-request-method'] !== undefined,
          origin: originOf(request),
          ownOrigins: ownOrigins(),
        });
        return reply.status(204).header('allow', [...entry.methods, 'OPTIONS'].join(', ')).headers(decision.headers).send();
      });
    }
  },
  { name: 'gatehouse-cors' },
);
