import { request, type Page } from './request';
import type { Resource } from './types';

export interface ResourceInput {
  identifier: string;
  name: string;
  scopes?: string[];
  dynamicClients?: boolean;
  accessTokenTtlSeconds?: number | null;
  tenantId?: string;
}

const path = (id: string) => `/v1/resources/${encodeURIComponent(id)}`;
export const listResources = (query: { cursor?: string; tenantId?: string } = {}) => request<Page<Resource>>('GET', '/v1/resources', { query });
export const createResource = (input: ResourceInput) => request<Resource>('POST', '/v1/resources', { body: input });
export const deleteResource = (id: string) => request<void>('DELETE', path(id));
