/** How long a fetched metadata document may be used without fetching it again (bounds in seconds). */
export interface CacheBounds {
  minSeconds: number;
  maxSeconds: number;
}

/** 5 minutes to 24 hours: a document that says nothing, no-store or no-cache is kept the minimum. */
export const DEFAULT_CACHE_BOUNDS: CacheBounds = { minSeconds: 300, maxSeconds: 86_400 };

export interface CacheHeaders {
  cacheControl?: string | undefined;
  expires?: string | undefined;
  date?: string | undefined;
  age?: string | undefined;
}

/**
 * The cache lifetime of a response, from Cache-Control (max-age; no-store, no-cache: the minimum) or else Expires
 * (against Date, or the time of receipt), less Age; clamped to the bounds. The minimum is a floor, not a bug: a
 * document that asks not to be cached is still not fetched on every request (the authorization request, the
 * token request and every refresh would each fetch it otherwise), and the draft lets the server bound caching.
 */
export function cacheLifetimeSeconds(headers: CacheHeaders, receivedAt: number, bounds: CacheBounds = DEFAULT_CACHE_BOUNDS): number {
  const clamp = (seconds: number) => Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, Math.floor(seconds)));
  const directives = new Map<string, string | null>();
  for (const part of (headers.cacheControl ?? '').split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (name) directives.set(name.toLowerCase(), value === undefined ? null : value.replace(/^"(.*)"$/, '$1'));
  }
  if (directives.has('no-store') || directives.has('no-cache')) return bounds.minSeconds;
  const age = headers.age !== undefined && /^\d{1,10}$/.test(headers.age.trim()) ? Number(headers.age.trim()) : 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined) return maxAge !== null && /^\d{1,10}$/.test(maxAge) ? clamp(Number(maxAge) - age) : bounds.minSeconds;
  if (headers.expires !== undefined) {
    const expires = Date.parse(headers.expires);
    if (Number.isNaN(expires)) return bounds.minSeconds;
    const date = headers.date !== undefined ? Date.parse(headers.date) : Number.NaN;
    const base = Number.isNaN(date) ? receivedAt : date;
    return clamp((expires - base) / 1000 - age);
  }
  return bounds.minSeconds;
}
