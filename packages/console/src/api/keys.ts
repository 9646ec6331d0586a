import { request, type Page } from './request';
import type { ApiKey, ApiKeyWithSecret, Environment, KeyStatus, RateLimit } from './types';

export interface KeyFilters {
  name?: string;
  prefix?: string;
  tenantId?: string;
  environment?: Environment | '';
  status?: KeyStatus | '';
  cursor?: string;
  limit?: number;
}

export interface CreateKeyInput {
  name: string;
  scopes?: string[];
  environment?: Environment;
  tenantId?: string;
  expiresAt?: string;
  rateLimit?: RateLimit;
  metadata?: Record<string, string | number | boolean | null>;
}

export const listKeys = (filters: KeyFilters = {}) => request<Page<ApiKey>>('GET', '/v1/keys', { query: { ...filters } });
export const getKey = (id: string) => request<ApiKey>('GET', `/v1/keys/${encodeURIComponent(id)}`);
export const createKey = (input: CreateKeyInput) => request<ApiKeyWithSecret>('POST', '/v1/keys', { body: input });
export const rotateKey = (id: string, gracePeriodSeconds: number) =>
  request<ApiKeyWithSecret & { previous: ApiKey }>('POST', `/v1/keys/${encodeURIComponent(id)}/rotate`, { body: { gracePeriodSeconds } });
export const revokeKey = (id: string) => request<ApiKey>('POST', `/v1/keys/${encodeURIComponent(id)}/revoke`);
