import { request, type Page } from './request';
import type { OAuthClient, OAuthClientWithSecret } from './types';

export interface ClientInput {
  name: string;
  grantTypes: string[];
  tokenEndpointAuthMethod: string;
  redirectUris?: string[];
  allowedOrigins?: string[];
  postLogoutRedirectUris?: string[];
  scopes?: string[];
  audiences?: string[];
  tenantId?: string;
}

const path = (id: string) => `/v1/clients/${encodeURIComponent(id)}`;
export const listClients = (query: { cursor?: string; tenantId?: string } = {}) => request<Page<OAuthClient>>('GET', '/v1/clients', { query });
export const getClient = (id: string) => request<OAuthClient>('GET', path(id));
export const createClient = (input: ClientInput) => request<OAuthClientWithSecret>('POST', '/v1/clients', { body: input });
export const updateClient = (id: string, input: Partial<ClientInput>) => request<OAuthClient>('PATCH', path(id), { body: input });
export const deleteClient = (id: string) => request<void>('DELETE', path(id));
export const rotateClientSecret = (id: string, gracePeriodSeconds: number) =>
  request<OAuthClient & { clientSecret: string }>('POST', `${path(id)}/secret/rotate`, { body: { gracePeriodSeconds } });
