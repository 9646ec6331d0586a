import { DiscoveryError } from './errors.js';

/** The fields of RFC 8414 / OpenID Connect Discovery metadata the clients use. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint?: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  jwks_uri?: string;
  [field: string]: unknown;
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Fetches `{issuer}/.well-known/openid-configuration` and checks that its `issuer` is the one asked for
 * (RFC 8414 section 3.3, ignoring a trailing slash), so metadata of another server is never trusted.
 */
export async function discoverMetadata(issuer: string, options: { fetch?: FetchLike } = {}): Promise<AuthorizationServerMetadata> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${trimSlash(issuer)}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'error' });
  } catch (cause) {
    throw new DiscoveryError('discovery_failed', `Could not fetch ${url}`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DiscoveryError('discovery_failed', `${url} answered HTTP ${response.status}`);
  }
  let metadata: AuthorizationServerMetadata;
  try {
    metadata = (await response.json()) as AuthorizationServerMetadata;
  } catch (cause) {
    throw new DiscoveryError('discovery_failed', `${url} did not answer JSON`, { cause });
  }
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.issuer !== 'string' || trimSlash(metadata.issuer) !== trimSlash(issuer)) {
    throw new DiscoveryError('issuer_mismatch', `The metadata at ${url} is not for issuer ${issuer}`);
  }
  if (typeof metadata.token_endpoint !== 'string') throw new DiscoveryError('missing_endpoint', `The metadata at ${url} has no token_endpoint`);
  return metadata;
}

/** Caches one successful discovery; a failed one is retried on the next call. */
export class MetadataCache {
  #pending: Promise<AuthorizationServerMetadata> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly fetchImpl: FetchLike | undefined,
  ) {}

  get(): Promise<AuthorizationServerMetadata> {
    if (!this.#pending) {
      const pending = discoverMetadata(this.issuer, this.fetchImpl ? { fetch: this.fetchImpl } : {});
      this.#pending = pending;
      pending.catch(() => {
        if (this.#pending === pending) this.#pending = undefined;
      });
    }
    return this.#pending;
  }
}
