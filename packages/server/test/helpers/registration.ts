import { sinkCredential } from './log-sink.js';

/** POST /oauth/register over real HTTP (JSON); the secrets in the answer are handed to the log scan. */
export async function register(t: { issuer: string }, body: unknown, bearer?: string) {
  const response = await fetch(`${t.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => null)) as any;
  for (const secret of [json?.client_secret, json?.registration_access_token]) if (typeof secret === 'string') sinkCredential(secret);
  return { status: response.status, headers: response.headers, body: json };
}

/** An RFC 7592 request to a registration_client_uri. */
export async function manage(url: string, method: 'GET' | 'PUT' | 'DELETE', bearer: string | undefined, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as any) : null };
}

