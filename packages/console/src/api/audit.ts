import { request, type Page } from './request';
import type { AuditEvent } from './types';

export interface AuditQuery {
  type?: string;
  keyId?: string;
  since?: string;
  cursor?: string;
  limit?: number;
}
export const listAuditEvents = (query: AuditQuery = {}) => request<Page<AuditEvent>>('GET', '/v1/audit-events', { query: { ...query } });
