import { request } from './request';
import type { UsageSeries } from './types';

export interface UsageQuery {
  from?: string;
  to?: string;
  granularity?: 'minute' | 'hour' | 'day';
}

const usage = (path: string, query: UsageQuery) => request<UsageSeries>('GET', path, { query: { ...query } });

export const keyUsage = (id: string, query: UsageQuery = {}) => usage(`/v1/keys/${encodeURIComponent(id)}/usage`, query);
export const clientUsage = (id: string, query: UsageQuery = {}) => usage(`/v1/clients/${encodeURIComponent(id)}/usage`, query);
export const overallUsage = (query: UsageQuery = {}) => usage('/v1/usage', query);
