import { serverUrl } from '../base-url';
import { request } from './request';
import type { UsageSeries } from './types';

export interface UsageQuery {
  from?: string;
  to?: string;
  granularity?: 'minute' | 'hour' | 'day';
}

let routes: Promise<ReadonlySet<string>> | null = null;

/**
 * Whether this server has a route, from its OpenAPI document (read once): the usage charts show only where
 * the usage API exists, rather than failing on a server without it.
 */
export function serverHasRoute(path: string): Promise<boolean> {
  routes ??= fetch(serverUrl('/openapi.json'), { credentials: 'omit' })
    .then((response) => (response.ok ? (response.json() as Promise<{ paths?: Record<string, unknown> }>) : { paths: {} }))
    .then((document) => new Set(Object.keys(document.paths ?? {})))
    .catch(() => new Set<string>());
  return routes.then((paths) => paths.has(path));
}

async function usageIfServed(route: string, path: string, query: UsageQuery): Promise<UsageSeries | null> {
  if (!(await serverHasRoute(route))) return null;
  return request<UsageSeries>('GET', path, { query: { ...query } });
}

export const keyUsage = (id: string, query: UsageQuery = {}) =>
  usageIfServed('/v1/keys/{id}/usage', `/v1/keys/${encodeURIComponent(id)}/usage`, query);
export const clientUsage = (id: string, query: UsageQuery = {}) =>
  usageIfServed('/v1/clients/{id}/usage', `/v1/clients/${encodeURIComponent(id)}/usage`, query);
export const overallUsage = (query: UsageQuery = {}) => usageIfServed('/v1/usage', '/v1/usage', query);
