import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { UnavailableError, unreachable } from './unavailable-error.js';

export interface JwksSourceOptions {
  issuer: string;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
  /** An unknown kid triggers at most one refetch per this many ms. Default 30 s. */
  cooldownMs?: number;
  /** Keys are refetched (in the request that finds them older) after this many ms. Default 10 min. */
  maxAgeMs?: number;
}

/**
 * The issuer's signing keys: `jwks_uri` discovered from `{issuer}/.well-known/openid-configuration` (whose
 * `issuer` must match), the JWKS fetched, cached and refetched when older than maxAgeMs, or when a token names
 * an unknown `kid` and the last fetch is at least cooldownMs old (so a flood of forged kids costs one fetch per
 * 30 s). Key selection and import are jose's createLocalJWKSet. Written here rather than with
 * createRemoteJWKSet so the injected clock governs the cooldown and an unreachable server (UnavailableError:
 * a 503) is told apart from an unknown key (a 401). When a refresh fails, the keys already known stay in use.
 */
export class JwksSource {
  readonly #options: JwksSourceOptions;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  #jwksUri: string | undefined;
  #local: JWTVerifyGetKey | undefined;
  #fetchedAt = -Infinity;
  #attemptedAt = -Infinity;
  #refreshing: Promise<void> | undefined;
  /** For tests and metrics: JWKS documents fetched. */
  fetches = 0;

  constructor(options: JwksSourceOptions) {
    this.#options = options;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
  }

  /** A jose key resolver for jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = this.#options.now();
    if (this.#local === undefined) await this.#refresh();
    else if (now - this.#fetchedAt > this.#maxAgeMs) await this.#refresh().catch(() => {});
    const used = this.#local!;
    try {
      return await used(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A refresh in flight, or one that finished since this lookup started, may know the key: try it first.
      if (this.#refreshing) await this.#refreshing;
      else if (this.#local === used) {
        if (this.#options.now() - this.#attemptedAt < this.#cooldownMs) throw error;
        await this.#refresh();
      }
      return await this.#local!(header, token);
    }
  };

  #refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#options.now();
    if (this.#jwksUri === undefined) {
      const base = this.#options.issuer.replace(/\/+$/, '');
      const metadata = await this.#getJson(`${base}/.well-known/openid-configuration`);
      if (metadata.issuer !== this.#options.issuer) throw new UnavailableError('issuer metadata names another issuer');
      if (typeof metadata.jwks_uri !== 'string' || !/^https?:\/\//.test(metadata.jwks_uri)) {
        throw new UnavailableError('issuer metadata has no usable jwks_uri');
      }
      this.#jwksUri = metadata.jwks_uri;
    }
    const jwks = await this.#getJson(this.#jwksUri!);
    if (!Array.isArray(jwks.keys)) throw new UnavailableError('the JWKS has no keys array');
    this.#local = createLocalJWKSet(jwks as JSONWebKeySet);
    this.#fetchedAt = this.#options.now();
    this.fetches++;
  }

  async #getJson(url: string): Promise<any> {
    let response: Response;
    try {
      const fetchImpl = this.#options.fetch; // called unbound (see api-key-verifier.ts)
      response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.#options.timeoutMs) });
    } catch (error) {
      throw unreachable('JWKS or issuer metadata', url, error);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new UnavailableError(`GET ${url}: HTTP ${response.status}`);
    }
    try {
      const body = await response.json();
      if (typeof body !== 'object' || body === null) throw new Error('not an object');
      return body;
    } catch (error) {
      throw new UnavailableError(`GET ${url}: not a JSON object`, { cause: error });
    }
  }
}
