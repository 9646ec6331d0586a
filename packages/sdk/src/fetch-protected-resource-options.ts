import type { ProtectedResourceOptions } from './protected-resource.js';
import { UnavailableError, printableUrl, unreachable } from './unavailable-error.js';

export interface FetchProtectedResourceOptionsInput {
  /** Gatehouse's issuer identifier (GATEHOUSE_ISSUER), e.g. `https://auth.example.com`. */
  issuer: string;
  /** This API's resource identifier, exactly as registered in Gatehouse (`POST /v1/resources`). */
  resource: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Give up after this many ms. Default 10 000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Reads the protected resource metadata Gatehouse holds for a registered resource
 * (`GET {issuer}/oauth/resource-metadata?resource=`) and returns it as the `protectedResourceMetadata` option of
 * the middleware: so an API's scope list has one source, the resource registered in Gatehouse. Call it once at
 * startup. Throws a TypeError when the resource is not registered (404) or the answer is not about it, and an
 * UnavailableError when Gatehouse cannot be asked (network error, timeout, 5xx).
 */
export async function fetchProtectedResourceOptions(input: FetchProtectedResourceOptionsInput): Promise<ProtectedResourceOptions> {
  const { issuer, resource } = input;
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) throw new TypeError('fetchProtectedResourceOptions: issuer must be an absolute URL.');
  if (typeof resource !== 'string' || resource === '') throw new TypeError('fetchProtectedResourceOptions: resource is required.');
  const doFetch = input.fetch ?? fetch;
  const url = new URL(`${issuer.replace(/\/+$/, '')}/oauth/resource-metadata`);
  url.searchParams.set('resource', resource);
  let response: Response;
  try {
    response = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(input.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
  } catch (error) {
    throw unreachable('protected resource metadata', url, error);
  }
  if (response.status === 404) {
    await response.body?.cancel();
    throw new TypeError(`fetchProtectedResourceOptions: no resource ${JSON.stringify(resource)} is registered at ${printableUrl(issuer)} (POST /v1/resources).`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new UnavailableError(`protected resource metadata: ${printableUrl(url)} answered ${response.status}`);
  }
  let document: Record<string, unknown>;
  try {
    document = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new UnavailableError(`protected resource metadata: ${printableUrl(url)} answered something other than JSON`, { cause: error });
  }
  const strings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (document.resource !== resource || !strings(document.authorization_servers) || !strings(document.scopes_supported)) {
    throw new UnavailableError(`protected resource metadata: ${printableUrl(url)} answered a document that is not about ${JSON.stringify(resource)}`);
  }
  return {
    resource,
    authorizationServers: document.authorization_servers,
    scopesSupported: document.scopes_supported,
    ...(typeof document.resource_name === 'string' ? { resourceName: document.resource_name } : {}),
  };
}
