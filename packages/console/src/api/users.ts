import { request, type Page } from './request';
import type { User, UserSession } from './types';

const path = (id: string) => `/v1/users/${encodeURIComponent(id)}`;
export const listUsers = (query: { cursor?: string; tenantId?: string; email?: string } = {}) => request<Page<User>>('GET', '/v1/users', { query });
export const getUser = (id: string) => request<User>('GET', path(id));
export const createUser = (input: { email: string; password: string; name?: string; tenantId?: string; adminScopes?: string[] }) =>
  request<User>('POST', '/v1/users', { body: input });
export const updateUser = (id: string, input: { email?: string; name?: string | null; disabled?: boolean; password?: string; adminScopes?: string[] }) =>
  request<User>('PATCH', path(id), { body: input });
export const listUserSessions = (id: string) => request<{ data: UserSession[] }>('GET', `${path(id)}/sessions`);
export const endUserSession = (id: string, sessionId: string) => request<void>('DELETE', `${path(id)}/sessions/${encodeURIComponent(sessionId)}`);
export const revokeUserGrants = (id: string) => request<unknown>('DELETE', `${path(id)}/grants`);
