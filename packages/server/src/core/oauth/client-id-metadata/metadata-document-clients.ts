import type { Clock } from '../../clock.js';
import type { SigningAlg } from '../../tokens/signing-alg.js';
import { cacheLifetimeSeconds, DEFAULT_CACHE_BOUNDS, type CacheBounds } from './cache-lifetime.js';
import { hostPolicyProblem, type HostPolicy } from './host-policy.js';
import type { FetchedDocument } from './metadata-document-fetcher.js';
import { documentHost, metadataDocumentUrlProblem } from './metadata-document-url.js';
import { validateMetadataDocument, type MetadataDocumentClient } from './validate-metadata-document.js';

export type ResolvedClient = { ok: true; client: MetadataDocumentClient } | { ok: false; reason: string };

export interface MetadataDocumentClientsDeps {
  clock: Clock;
  policy: HostPolicy;
  /** fetchMetadataDocument with its options bound (tests may count calls). */
  fetch(url: string): Promise<FetchedDocument>;
  idTokenAlgs(): readonly SigningAlg[];
  /** Called once per failed fetch or refused document (not for answers from the negative cache): the audit log. */
  onFailure?(clientId: string, reason: string): void;
  cacheBounds?: CacheBounds;
  /** Failures are remembered this long (default 60 s): a broken client is not fetched on every request. */
  negativeCacheSeconds?: number;
  /** Bounds of the in-process cache (least recently used entries go first). */
  maxEntries?: number;
  maxBytes?: number;
  /**
   * Fetches under way at once, all URLs together (default 32): client_ids are chosen by strangers, so Gatehouse is
   * not made to open connections without bound. Beyond it a request is refused (`too_many_fetches`, not cached).
   */
  maxConcurrentFetches?: number;
}

interface Entry {
  result: ResolvedClient;
  expiresAt: number;
  bytes: number;
}

/**
 * Clients described by Client ID Metadata Documents: resolves a client_id URL to its client view, fetching the
 * document when it is not cached. One in-process LRU cache, bounded in entries and bytes, holds both documents
 * (for their HTTP cache lifetime within bounds) and failures (briefly); concurrent requests for one URL share
 * one fetch. Never throws.
 */
export class MetadataDocumentClients {
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<ResolvedClient>>();
  #bytes = 0;

  constructor(private readonly deps: MetadataDocumentClientsDeps) {}

  /** Cached documents and failures, and their total size (tests, metrics). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#cache.size, bytes: this.#bytes };
  }

  async resolve(clientId: string): Promise<ResolvedClient> {
    const urlProblem = metadataDocumentUrlProblem(clientId);
    if (urlProblem) return { ok: false, reason: urlProblem };
    const hostProblem = hostPolicyProblem(documentHost(clientId), this.deps.policy);
    if (hostProblem) return { ok: false, reason: hostProblem };
    const now = this.deps.clock.now();
    const cached = this.#cache.get(clientId);
    if (cached && cached.expiresAt > now) {
      // Most recently used goes last.
      this.#cache.delete(clientId);
      this.#cache.set(clientId, cached);
      return cached.result;
    }
    const pending = this.#inflight.get(clientId);
    if (pending) return pending;
    if (this.#inflight.size >= (this.deps.maxConcurrentFetches ?? 32)) return { ok: false, reason: 'too_many_fetches' };
    const fetching = this.#fetch(clientId).finally(() => this.#inflight.delete(clientId));
    this.#inflight.set(clientId, fetching);
    return fetching;
  }

  /** Forgets every cached document and failure. */
  clear(): void {
    this.#cache.clear();
    this.#bytes = 0;
  }

  async #fetch(clientId: string): Promise<ResolvedClient> {
    let result: ResolvedClient;
    let lifetimeSeconds = this.deps.negativeCacheSeconds ?? 60;
    let bytes = clientId.length;
    try {
      const fetched = await this.deps.fetch(clientId);
      const fetchedAt = this.deps.clock.now();
      if (!fetched.ok) {
        result = fetched;
      } else {
        let document: unknown;
        try {
          document = JSON.parse(fetched.body);
        } catch {
          document = undefined;
        }
        result =
          document === undefined
            ? { ok: false, reason: 'document_not_json' }
            : validateMetadataDocument(clientId, document, { fetchedAt, idTokenAlgs: this.deps.idTokenAlgs() });
        if (result.ok) {
          lifetimeSeconds = cacheLifetimeSeconds(fetched.headers, fetchedAt, this.deps.cacheBounds ?? DEFAULT_CACHE_BOUNDS);
          bytes += fetched.body.length;
        }
      }
    } catch {
      result = { ok: false, reason: 'fetch_error' };
    }
    if (!result.ok) this.deps.onFailure?.(clientId, result.reason);
    this.#store(clientId, { result, expiresAt: this.deps.clock.now() + lifetimeSeconds * 1000, bytes });
    return result;
  }

  #store(clientId: string, entry: Entry): void {
    const previous = this.#cache.get(clientId);
    if (previous) {
      this.#cache.delete(clientId);
      this.#bytes -= previous.bytes;
    }
    this.#cache.set(clientId, entry);
    this.#bytes += entry.bytes;
    const maxEntries = this.deps.maxEntries ?? 10_000;
    const maxBytes = this.deps.maxBytes ?? 16 * 1024 * 1024;
    for (const [key, old] of this.#cache) {
      if (this.#cache.size <= maxEntries && this.#bytes <= maxBytes) break;
      this.#cache.delete(key);
      this.#bytes -= old.bytes;
    }
  }
}
