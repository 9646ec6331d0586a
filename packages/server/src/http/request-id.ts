import { randomBase62 } from '../core/random.js';

/** A request's id, as in every response's X-Request-Id and in audit events. */
export function newRequestId(): string {
  return `req_${randomBase62(20)}`;
}
