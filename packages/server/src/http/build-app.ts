import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { randomBase62 } from '../core/random.js';
import type { Services } from '../services.js';
import type { App } from './app-types.js';
import { authenticatePlugin } from './plugins/authenticate.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { jsonBodyPlugin } from './plugins/json-body.js';
import { openApiPlugin } from './plugins/openapi.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { registerRoutes } from './routes/register-routes.js';
import { writeClientError } from './client-error.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';
import { loggerOptions } from './logger-options.js';

export interface BuildAppOptions {
  /** Where JSON log lines go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
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
  const fastifyOptions: FastifyServerOptions = {
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: () => `req_${randomBase62(20)}`,
    clientErrorHandler: writeClientError,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Every authentication is an audit event; per-request access lines cost the hot path two log writes
    // each, so they are kept for debugging.
    childLoggerFactory: lazyChildLoggerFactory,
    logController: new LogController({
      disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
    }),
  };
  const logger = { ...loggerOptions(config.logLevel), ...(options.logStream ? { stream: options.logStream } : {}) };
  const app = Fastify({ ...fastifyOptions, logger }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler());
  await app.register(errorHandlerPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(authenticatePlugin, { services });
  await app.register(openApiPlugin, { issuer: () => config.issuer });
  registerRoutes(app, services);
  await app.ready();
  return app;
}
