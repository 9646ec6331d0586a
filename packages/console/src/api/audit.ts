import { request, type Page } from './request';
import type { AuditEvent } from './types';

export interface AuditQuery {
  type?: string;
  keyId?: string;
  outcome?: 'success' | 'failure';
  /** Events about this OAuth client. */
  clientId?: string;
  /** Events about this user, or made by this admin user. */
  userId?: string;
  /** Events made by this admin key. */
  actorKeyId?: string;
  /** RFC 3339; at or after. */
  since?: string;
  /** RFC 3339; before (exclusive). */
  until?: string;
  cursor?: string;
  limit?: number;
}
export const listAuditEvents = (query: AuditQuery = {}) => request<Page<AuditEvent>>('GET', '/v1/audit-events', { query: { ...query } });
