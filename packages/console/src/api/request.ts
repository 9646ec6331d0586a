import { accessToken } from '../auth/session';
import { serverUrl } from '../base-url';
import { ApiError } from './api-error';

export type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  const url = serverUrl(path);
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${url}?${text}` : url;
}

async function send(method: string, url: string, body: unknown, token: string | null): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    // The admin API authenticates the bearer token only: no cookie is sent, so no request can be forged.
    credentials: 'omit',
  });
}

/**
 * Calls the admin API as the signed-in user. A 401 refreshes the access token once and tries again; any
 * other error answer becomes an ApiError carrying error_description and request_id for the page to show.
 */
export async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
  const url = withQuery(path, options.query);
  let response = await send(method, url, options.body, await accessToken());
  if (response.status === 401) {
    const fresh = await accessToken(true);
    if (fresh) response = await send(method, url, options.body, fresh);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: described below */
  }
  if (!response.ok) {
    const error = (json ?? {}) as { error?: string; error_description?: string; request_id?: string };
    throw new ApiError(
      response.status,
      error.error ?? 'http_error',
      error.error_description ?? `The server answered ${response.status} ${response.statusText}.`,
      error.request_id ?? response.headers.get('x-request-id'),
    );
  }
  return json as T;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
