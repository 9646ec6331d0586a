import type { FastifyRequest } from 'fastify';

/** Fields that hold a credential, wherever they appear (ARCHITECTURE rule 5). */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'password',
  'passwordHash',
  'password_hash',
  'client_secret',
  'clientSecret',
  'token',
  'key',
  'secret',
  'refresh_token',
  'access_token',
  'id_token',
  'code_verifier',
];

/** Paths pino censors: the request's credential headers, and each secret field at the top of a log line's
 * object and up to two levels down (pino's redaction takes explicit paths, not a recursive wildcard). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
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
