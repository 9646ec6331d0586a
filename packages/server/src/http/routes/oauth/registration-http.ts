import type { FastifyRequest } from 'fastify';
import { BEARER_TOKEN, invalidTokenError } from '../../../core/errors.js';

/** The Bearer token of the request (RFC 6750 section 2.1), undefined when there is no Authorization header. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = BEARER_TOKEN.exec(header);
  if (!match) throw invalidTokenError();
  return match[1]!;
}

/** Registration responses carry secrets: never cached (RFC 6749 section 5.1 spirit, RFC 7591 section 3.2.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
