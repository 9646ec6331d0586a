import { isIP } from 'node:net';
import { isForbiddenAddress } from '../../webhooks/destination-guard.js';

/**
 * Which hosts client metadata documents may be fetched from (GATEHOUSE_CIMD_ALLOWED_HOSTS,
 * GATEHOUSE_CIMD_DENIED_HOSTS, GATEHOUSE_CIMD_ALLOW_LOOPBACK). An entry is a host name (`example.com`, that host
 * only) or `*.example.com` (any name under example.com, not example.com itself). Matching is on the lowercase host.
 */
export interface HostPolicy {
  /** Empty: any host (that the other rules allow). */
  allowedHosts: readonly string[];
  deniedHosts: readonly string[];
  /** Loopback and private targets allowed (tests, local development). The DNS-level guard applies otherwise. */
  allowLoopback: boolean;
}

/** Why a host pattern of the configuration is refused, or null. */
export function hostPatternProblem(pattern: string): string | null {
  const bare = pattern.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) return null;
  const name = bare.startsWith('*.') ? bare.slice(2) : bare;
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) {
    return 'a host name in lowercase (example.com) or a wildcard over its subdomains (*.example.com)';
  }
  return null;
}

export function hostMatches(host: string, pattern: string): boolean {
  const bare = pattern.replace(/^\[(.*)\]$/, '$1');
  if (bare.startsWith('*.')) return host.endsWith(bare.slice(1)) && host.length > bare.length - 1;
  return host === bare;
}

/** localhost and its subdomains (RFC 6761: they resolve to loopback). */
const isLocalhostName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');

/**
 * Why documents may not be fetched from this host, or null. Names are checked again after DNS resolution by the
 * fetcher (a public name resolving to a private address is refused there).
 */
export function hostPolicyProblem(host: string, policy: HostPolicy): string | null {
  const lower = host.toLowerCase();
  if (policy.deniedHosts.some((pattern) => hostMatches(lower, pattern))) return 'host_denied';
  if (policy.allowedHosts.length > 0 && !policy.allowedHosts.some((pattern) => hostMatches(lower, pattern))) return 'host_not_allowed';
  if (!policy.allowLoopback) {
    if (isLocalhostName(lower)) return 'host_loopback';
    if (isIP(lower) !== 0 && isForbiddenAddress(lower)) return 'host_private_address';
  }
  return null;
}
