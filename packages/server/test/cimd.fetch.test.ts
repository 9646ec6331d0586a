import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { MetadataDocumentClients } from '../src/core/oauth/client-id-metadata/metadata-document-clients.js';
import { fetchMetadataDocument, type FetcherOptions } from '../src/core/oauth/client-id-metadata/metadata-document-fetcher.js';
import { metadataDocument, startDocumentServer, type DocumentServer } from './helpers/document-server.js';

/** The fetcher and its cache against a real local HTTPS server (test CA). */
let server: DocumentServer;
beforeAll(async () => {
  server = await startDocumentServer();
});
afterAll(async () => {
  await server.close();
});

const options = (overrides: Partial<FetcherOptions> = {}): FetcherOptions => ({
  allowLoopback: true,
  timeoutMs: 2_000,
  connectTimeoutMs: 2_000,
  maxBytes: 5 * 1024,
  extraCa: server.caPem,
  ...overrides,
});

describe('fetchMetadataDocument', () => {
  it('fetches a JSON document with its cache headers', async () => {
    const url = `${server.origin}/ok.json`;
    server.route('/ok.json', { body: metadataDocument(url), headers: { 'cache-control': 'max-age=600' } });
    const result = await fetchMetadataDocument(url, options());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(JSON.parse(result.body).client_id).toBe(url);
    expect(result.headers.cacheControl).toBe('max-age=600');
  });

  it('accepts application/*+json', async () => {
    server.route('/plus.json', { body: {}, headers: { 'content-type': 'application/client-metadata+json; charset=utf-8' } });
    expect((await fetchMetadataDocument(`${server.origin}/plus.json`, options())).ok).toBe(true);
  });

  it('refuses a certificate from a CA it does not trust', async () => {
    server.route('/ok.json', { body: {} });
    const result = await fetchMetadataDocument(`${server.origin}/ok.json`, options({ extraCa: undefined }));
    expect(result).toMatchObject({ ok: false });
    expect(result.ok || result.reason).toMatch(/^fetch_error:/);
  });

  it('does not follow redirects', async () => {
    server.route('/moved.json', { status: 302, headers: { location: `${server.origin}/ok.json` }, body: '' });
    const before = server.hits('/ok.json');
    expect(await fetchMetadataDocument(`${server.origin}/moved.json`, options())).toEqual({ ok: false, reason: 'redirect_not_followed' });
    expect(server.hits('/ok.json')).toBe(before);
  });

  it('refuses other statuses, other content types and compressed bodies', async () => {
    server.route('/missing.json', { status: 404, body: {} });
    server.route('/html', { body: '<html></html>', headers: { 'content-type': 'text/html' } });
    server.route('/gz.json', { body: 'x', headers: { 'content-encoding': 'gzip' } });
    expect(await fetchMetadataDocument(`${server.origin}/missing.json`, options())).toEqual({ ok: false, reason: 'http_status_404' });
    expect(await fetchMetadataDocument(`${server.origin}/html`, options())).toEqual({ ok: false, reason: 'content_type_not_json' });
    expect(await fetchMetadataDocument(`${server.origin}/gz.json`, options())).toEqual({ ok: false, reason: 'content_encoded' });
  });

  it('aborts a document past the size limit, declared or not', async () => {
    server.route('/big.json', { body: { client_id: 'x', pad: 'a'.repeat(6000) } });
    expect(await fetchMetadataDocument(`${server.origin}/big.json`, options())).toEqual({ ok: false, reason: 'document_too_large' });
    server.route('/big-chunked.json', { body: { pad: 'a'.repeat(6000) }, headers: { 'transfer-encoding': 'chunked' } });
    expect(await fetchMetadataDocument(`${server.origin}/big-chunked.json`, options())).toEqual({ ok: false, reason: 'document_too_large' });
  });

  it('gives up on a slow server', async () => {
    server.route('/slow.json', { body: {}, delayMs: 5_000 });
    expect(await fetchMetadataDocument(`${server.origin}/slow.json`, options({ timeoutMs: 200 }))).toEqual({ ok: false, reason: 'timeout' });
  });

  it('refuses loopback targets without ALLOW_LOOPBACK: by IP literal and by a name resolving to 127.0.0.1', async () => {
    server.route('/ok.json', { body: {} });
    expect(await fetchMetadataDocument(`${server.ipOrigin}/ok.json`, options({ allowLoopback: false }))).toEqual({ ok: false, reason: 'forbidden_address' });
    expect(await fetchMetadataDocument(`${server.origin}/ok.json`, options({ allowLoopback: false }))).toEqual({ ok: false, reason: 'forbidden_address' });
    expect(await fetchMetadataDocument('https://[::1]:1/ok.json', options({ allowLoopback: false }))).toEqual({ ok: false, reason: 'forbidden_address' });
    expect(await fetchMetadataDocument('https://169.254.169.254/latest', options({ allowLoopback: false }))).toEqual({ ok: false, reason: 'forbidden_address' });
  });

  it('refuses plain http', async () => {
    expect(await fetchMetadataDocument(`http://localhost:${server.port}/ok.json`, options())).toEqual({ ok: false, reason: 'url_not_https' });
  });
});

describe('MetadataDocumentClients (cache)', () => {
  const clients = (clock: ManualClock, overrides: Partial<ConstructorParameters<typeof MetadataDocumentClients>[0]> = {}) => {
    const failures: Array<[string, string]> = [];
    let fetches = 0;
    const resolver = new MetadataDocumentClients({
      clock,
      policy: { allowedHosts: [], deniedHosts: [], allowLoopback: true },
      fetch: (url) => {
        fetches += 1;
        return fetchMetadataDocument(url, options());
      },
      idTokenAlgs: () => ['RS256', 'EdDSA'],
      onFailure: (id, reason) => failures.push([id, reason]),
      ...overrides,
    });
    return { resolver, failures, fetches: () => fetches };
  };

  it('caches a document for its max-age within bounds, then fetches it again', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const url = `${server.origin}/cached.json`;
    server.route('/cached.json', { body: metadataDocument(url), headers: { 'cache-control': 'max-age=600' } });
    const { resolver, fetches } = clients(clock);
    expect(await resolver.resolve(url)).toMatchObject({ ok: true, client: { id: url, name: 'Example MCP Client', registration: 'metadata_document' } });
    clock.advance(599_000);
    await resolver.resolve(url);
    expect(fetches()).toBe(1);
    clock.advance(2_000);
    server.route('/cached.json', { body: metadataDocument(url, { client_name: 'Renamed' }), headers: { 'cache-control': 'max-age=600' } });
    expect(await resolver.resolve(url)).toMatchObject({ ok: true, client: { name: 'Renamed' } });
    expect(fetches()).toBe(2);
  });

  it('fetches once for concurrent requests of one client_id', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const url = `${server.origin}/concurrent.json`;
    server.route('/concurrent.json', { body: metadataDocument(url), delayMs: 100 });
    const { resolver } = clients(clock);
    const before = server.hits('/concurrent.json');
    const results = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve(url)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(server.hits('/concurrent.json') - before).toBe(1);
  });

  it('bounds the fetches under way at once, all URLs together', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    for (const n of [1, 2, 3]) server.route(`/busy-${n}.json`, { body: metadataDocument(`${server.origin}/busy-${n}.json`), delayMs: 100 });
    const { resolver } = clients(clock, { maxConcurrentFetches: 2 });
    const results = await Promise.all([1, 2, 3].map((n) => resolver.resolve(`${server.origin}/busy-${n}.json`)));
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'too_many_fetches']);
    // Not cached: once the others are done, it is fetched.
    expect(await resolver.resolve(`${server.origin}/busy-3.json`)).toMatchObject({ ok: true });
  });

  it('remembers a failure briefly (audited once), then tries again', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const url = `${server.origin}/broken.json`;
    server.route('/broken.json', { body: metadataDocument('https://elsewhere.example/client.json') });
    const { resolver, failures, fetches } = clients(clock);
    expect(await resolver.resolve(url)).toEqual({ ok: false, reason: 'client_id_mismatch' });
    expect(await resolver.resolve(url)).toEqual({ ok: false, reason: 'client_id_mismatch' });
    expect(fetches()).toBe(1);
    expect(failures).toEqual([[url, 'client_id_mismatch']]);
    clock.advance(61_000);
    server.route('/broken.json', { body: metadataDocument(url) });
    expect(await resolver.resolve(url)).toMatchObject({ ok: true });
    expect(fetches()).toBe(2);
  });

  it('refuses non-JSON bodies served as JSON', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    server.route('/notjson.json', { body: 'this is not json' });
    const { resolver } = clients(clock);
    expect(await resolver.resolve(`${server.origin}/notjson.json`)).toEqual({ ok: false, reason: 'document_not_json' });
  });

  it('refuses bad URLs and policy hosts without fetching', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const { resolver, fetches } = clients(clock, { policy: { allowedHosts: [], deniedHosts: ['localhost'], allowLoopback: true } });
    expect(await resolver.resolve(`${server.origin}/ok.json`)).toEqual({ ok: false, reason: 'host_denied' });
    expect(await resolver.resolve(`${server.origin}/ok.json#x`)).toEqual({ ok: false, reason: 'url_has_fragment' });
    expect(fetches()).toBe(0);
  });

  it('stays within its entry and byte bounds, least recently used first', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    for (const name of ['a', 'b', 'c']) server.route(`/lru-${name}.json`, { body: metadataDocument(`${server.origin}/lru-${name}.json`) });
    const { resolver, fetches } = clients(clock, { maxEntries: 2 });
    const a = `${server.origin}/lru-a.json`;
    await resolver.resolve(a);
    await resolver.resolve(`${server.origin}/lru-b.json`);
    await resolver.resolve(a); // a is now the most recently used
    await resolver.resolve(`${server.origin}/lru-c.json`); // evicts b
    expect(resolver.size.entries).toBe(2);
    await resolver.resolve(a);
    expect(fetches()).toBe(3);
    await resolver.resolve(`${server.origin}/lru-b.json`);
    expect(fetches()).toBe(4);
    const small = clients(clock, { maxBytes: 400 });
    await small.resolver.resolve(a);
    await small.resolver.resolve(`${server.origin}/lru-b.json`);
    expect(small.resolver.size.entries).toBe(1);
    expect(small.resolver.size.bytes).toBeLessThanOrEqual(400);
  });
});
