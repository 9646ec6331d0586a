import type { Actor } from '../core/api-keys/api-key-service.js';
import { canonicalIp } from '../core/detection/ip-address.js';
import type { IpBlocks } from '../core/detection/ip-blocks.js';
import { clientIpBlockedError, GatehouseError } from '../core/errors.js';

/**
 * The actor of a verification made on behalf of an end client: a verifier (an API server holding keys:verify)
 * may pass the address of the client that presented the key as `clientIp`. That address then stands as the
 * request's origin: the verification's audit event carries it, failed verifications are counted against it
 * (not against the API server), and a blocked client address is refused 429 client_ip_blocked before any lookup.
 * A verifier of one tenant may not get an address blocked for every tenant: the address it claims is recorded and
 * checked, but its failures are not counted (RequestOrigin.ipClaimedByTenant).
 * Throws invalid_request when it is not an IP address.
 */
export function verifyOnBehalfOf(actor: Actor, clientIp: string | undefined, blocks: IpBlocks): Actor {
  if (clientIp === undefined) return actor;
  const ip = canonicalIp(clientIp);
  if (ip === undefined) throw new GatehouseError('invalid_request', 'clientIp must be an IPv4 or IPv6 address.');
  const seconds = blocks.retryAfterSeconds(ip);
  if (seconds > 0) throw clientIpBlockedError(seconds);
  return { ...actor, origin: { ...actor.origin, ip, ...(actor.tenantId !== null ? { ipClaimedByTenant: true } : {}) } };
}
