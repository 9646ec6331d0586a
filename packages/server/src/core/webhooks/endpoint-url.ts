import { isIP } from 'node:net';
import { isForbiddenAddress } from './destination-guard.js';

export const MAX_ENDPOINT_URL_LENGTH = 2048;

/**
 * Why a webhook endpoint URL is refused, or undefined when it is acceptable: absolute https (http too when
 * insecure delivery is allowed), no credentials, no fragment; an IP literal must not be a forbidden address
 * (names are checked when resolved, at every delivery).
 */
/** How a developer sends webhooks to a local receiver: said wherever http: or a local address is refused. */
export const INSECURE_HINT =
  'http: and loopback or private addresses are allowed only with GATEHOUSE_WEBHOOKS_ALLOW_INSECURE=true, for development and tests';

export function endpointUrlProblem(value: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url must be an absolute URL.';
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    return allowInsecure ? 'url must use https or http.' : `url must use https (${INSECURE_HINT}).`;
  }
  if (url.username || url.password) return 'url must not contain credentials.';
  if (value.includes('#')) return 'url must not have a fragment.';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowInsecure && isIP(host) && isForbiddenAddress(host)) {
    return `url must not point to a private, loopback, link-local or reserved address (${INSECURE_HINT}).`;
  }
  return undefined;
}
