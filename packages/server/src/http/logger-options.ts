import type { FastifyRequest } from 'fastify';

/** Paths pino censors wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.authorization',
  '*.cookie',
  'password',
  '*.password',
  '*.*.password',
  '*.passwordHash',
  '*.password_hash',
  '*.client_secret',
  '*.clientSecret',
  '*.token',
  '*.key',
  '*.secret',
  '*.refresh_token',
  '*.access_token',
];

/**
 * JSON logs with request ids. Requests are logged by method, path and client address only: never headers,
 * and never the query string, where a careless client may have put a credential.
 */
export function loggerOptions(level: string) {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        remoteAddress: request.ip,
      }),
    },
  };
}
