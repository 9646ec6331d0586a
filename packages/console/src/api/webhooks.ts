import { request, type Page } from './request';
import type { WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret } from './types';

const path = (id: string) => `/v1/webhook-endpoints/${encodeURIComponent(id)}`;
export const listWebhookEndpoints = () => request<Page<WebhookEndpoint>>('GET', '/v1/webhook-endpoints', { query: { limit: 100 } });
export const getWebhookEndpoint = (id: string) => request<WebhookEndpoint>('GET', path(id));
export const createWebhookEndpoint = (input: { url: string; events: string[]; scheme?: string; description?: string; tenantId?: string }) =>
  request<WebhookEndpointWithSecret>('POST', '/v1/webhook-endpoints', { body: input });
export const updateWebhookEndpoint = (id: string, input: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }) =>
  request<WebhookEndpoint>('PATCH', path(id), { body: input });
export const deleteWebhookEndpoint = (id: string) => request<void>('DELETE', path(id));
export const rotateWebhookSecret = (id: string) => request<WebhookEndpointWithSecret>('POST', `${path(id)}/secret/rotate`, { body: {} });
export const listWebhookDeliveries = (id: string) => request<Page<WebhookDelivery>>('GET', `${path(id)}/deliveries`, { query: { limit: 50 } });
export const retryWebhookDelivery = (id: string, deliveryId: string) =>
  request<WebhookDelivery>('POST', `${path(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`);
export const sendWebhookTestEvent = (id: string) => request<WebhookDelivery>('POST', `${path(id)}/test`);
