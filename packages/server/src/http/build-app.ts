import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { ConfigError } from '../config/load-config.js';
import { issuerPathCollision, issuerPathRewriter } from '../config/issuer-path.js';
import type { Services } from '../services.js';
import type { App } from './app-types.js';
import { authenticatePlugin } from './plugins/authenticate.js';
import { corsPlugin } from './plugins/cors.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { ipBlockPlugin } from './plugins/ip-block.js';
import { jsonBodyPlugin } from './plugins/json-body.js';
import { openApiPlugin } from './plugins/openapi.js';
import { durableAuditPlugin } from './plugins/durable-audit.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { registerRoutes } from './routes/register-routes.js';
import { writeClientError } from './client-error.js';
import { createFastVerify, type FastVerify } from './fast-verify.js';
import { newRequestId } from './request-id.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';
import { loggerOptions } from './logger-options.js';

const fastPaths = new WeakMap<object, FastVerify>();
/** Per server: its request listener (the fast path, then Fastify), which the TLS listener shares. */
const requestListeners = new WeakMap<object, (request: IncomingMessage, response: ServerResponse) => void>();
/** Per server: the connections that have not sent a request yet. */
const unusedConnections = new WeakMap<object, Set<Socket>>();
/** Per server: requests held until start-up is complete (holdRequests), or undefined when requests flow. */
const heldRequests = new WeakMap<object, Array<[IncomingMessage, ServerResponse]>>();

/**
 * Holds every request that reaches the app's request listener (on the app's own server and on the TLS listener,
 * which shares it) until the returned function is called: `release()` answers the held requests and lets later
 * ones through; `release({ drop: true })` (start-up failed) closes their connections unanswered. startServer
 * holds before the first listener binds and releases once the configuration a request can observe is final
 * (the issuer's port, the mTLS aliases), so no response, not even /readyz, is ever computed from a value that
 * is about to change. Apps that are not held (tests calling app.listen()) answer at once.
 */
export function holdRequests(app: App): (options?: { drop?: boolean }) => void {
  const listener = requestListeners.get(app.server);
  if (!listener) throw new Error('this app was not built by buildApp');
  const held: Array<[IncomingMessage, ServerResponse]> = [];
  heldRequests.set(app.server, held);
  return ({ drop = false } = {}) => {
    if (heldRequests.get(app.server) !== held) return;
    heldRequests.delete(app.server);
    for (const [request, response] of held.splice(0)) {
      if (drop) request.socket.destroy();
      else listener(request, response);
    }
  };
}

/**
 * Closes the connections that never sent a request. server.closeIdleConnections() leaves them open (Node counts
 * a fresh connection as busy), so one opened speculatively (browsers preconnect; undici opens one after an
 * aborted streaming response) would hold a graceful shutdown until the client drops it.
 */
export function closeUnusedConnections(app: App): void {
  for (const socket of unusedConnections.get(app.server) ?? []) socket.destroy();
}

/**
 * The app's request listener, for a second server (the mTLS listener, tls-listener.ts) to hand its requests to:
 * one app, one set of routes and hooks, served on both listeners.
 */
export function requestListenerOf(app: App): (request: IncomingMessage, response: ServerResponse) => void {
  const listener = requestListeners.get(app.server);
  if (!listener) throw new Error('this app was not built by buildApp');
  return listener;
}

/** The verify fast path in front of an app's server, when it is on (tests read its stats). */
export function fastVerifyOf(app: App): FastVerify | undefined {
  return fastPaths.get(app.server);
}

export interface BuildAppOptions {
  /** Where JSON log lines go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
  /** The built console's directory (default: this package's dist-console/); null: none. */
  consoleDir?: string | null;
}

/**
 * Request bodies are validated strictly (no type coercion, unknown fields refused); query strings and path
 * parameters are coerced from text, which is all they can be.
 */
function validatorCompiler() {
  const options = { strict: false, allErrors: false, removeAdditional: false, useDefaults: true } as const;
  const body = addFormats.default(new Ajv.default({ ...options, coerceTypes: false }));
  const query = addFormats.default(new Ajv.default({ ...options, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : query).compile(schema);
}

/** Builds the HTTP application without listening; tests drive it with inject(). */
export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<App> {
  const { config } = services;
  const requestLogging = config.logLevel === 'debug' || config.logLevel === 'trace';
  // The verify fast path answers from the client's socket address and writes no request log lines: it is off
  // behind a trusted proxy and with request logging on (see fast-verify.ts).
  const fastPathEnabled = config.trustProxy === false && !requestLogging;
  let closing = false;
  let app: App | undefined;
  const rewriteForIssuerPath = issuerPathRewriter(() => config.issuer);
  const fastifyOptions: FastifyServerOptions = {
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: newRequestId,
    clientErrorHandler: writeClientError,
    routerOptions: { maxParamLength: 200 },
    // An issuer with a path (https://host/t1): every route answers under it too (config/issuer-path.ts).
    rewriteUrl: (request) => rewriteForIssuerPath(request.url ?? '/'),
    return503OnClosing: true,
    // Every authentication is an audit event; per-request access lines cost the hot path two log writes
    // each, so they are kept for debugging.
    childLoggerFactory: lazyChildLoggerFactory,
    logController: new LogController({
      disableRequestLogging: !requestLogging,
    }),
    // Fastify's own server, with POST /v1/keys/verify's fast path in front of Fastify's handler.
    serverFactory: (handler, serverOptions) => {
      const fastVerify: FastVerify | undefined = fastPathEnabled
        ? createFastVerify({
            services,
            bodyLimit: config.bodyLimitBytes,
            handler,
            logger: () => app!.log,
            isClosing: () => closing,
          })
        : undefined;
      const unused = new Set<Socket>();
      const listener = (request: IncomingMessage, response: ServerResponse) => {
        unused.delete(request.socket);
        const held = heldRequests.get(server);
        if (held !== undefined) {
          held.push([request, response]);
          return;
        }
        if (fastVerify === undefined || !fastVerify(request, response)) handler(request, response);
      };
      const server = createServer(listener);
      requestListeners.set(server, listener);
      if (fastVerify) fastPaths.set(server, fastVerify);
      unusedConnections.set(server, unused);
      server.on('connection', (socket: Socket) => {
        unused.add(socket);
        socket.once('close', () => unused.delete(socket));
      });
      // What Fastify sets on the server it creates itself (its options, defaults filled in).
      const timeouts = serverOptions as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
      server.keepAliveTimeout = timeouts.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout;
      server.setTimeout(timeouts.connectionTimeout);
      if (timeouts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = timeouts.maxRequestsPerSocket;
      return server;
    },
  };
  const logger = { ...loggerOptions(config.logLevel), ...(options.logStream ? { stream: options.logStream } : {}) };
  app = Fastify({ ...fastifyOptions, logger }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  app.addHook('preClose', (done) => {
    closing = true;
    closeUnusedConnections(app!);
    done();
  });

  const routePaths = new Set<string>();
  app.addHook('onRoute', (route) => {
    routePaths.add(route.url);
  });
  app.setValidatorCompiler(validatorCompiler());
  await app.register(errorHandlerPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(durableAuditPlugin, { audit: services.audit });
  await app.register(jsonBodyPlugin);
  await app.register(ipBlockPlugin, { services });
  await app.register(authenticatePlugin, { services });
  await app.register(openApiPlugin, { issuer: () => config.issuer });
  await app.register(corsPlugin, { services });
  registerRoutes(app, services, { consoleDir: options.consoleDir });
  // Every alert is also a structured log line at warn level.
  services.detection.alerts.onAlert((event) =>
    app!.log.warn(
      { alert: event.type, eventId: event.id, reason: event.reason, ip: event.ip, keyId: event.keyId, tenantId: event.tenantId, details: event.details },
      'security alert',
    ),
  );
  await app.ready();
  const collision = issuerPathCollision(config.issuer, routePaths);
  if (collision !== undefined) {
    await app.close();
    throw new ConfigError([
      `GATEHOUSE_ISSUER's path must not begin with ${collision}: Gatehouse's own routes are there (a path such as /auth or /realms/name is fine)`,
    ]);
  }
  return app;
}
