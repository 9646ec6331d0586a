/** Gatehouse could not be asked (network error, timeout, 5xx, unexpected answer): a failure, never a denial. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly code = 'unavailable';
}

/** The URL as safe to print: no credentials, no query, no fragment. */
export function printableUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * What a failed fetch() says, its causes included: undici's own message is only "fetch failed", the reason
 * (`connect ECONNREFUSED 127.0.0.1:4000`, a DNS failure, a TLS error) is in `cause`, sometimes nested, or an
 * AggregateError of one per address tried.
 */
export function describeFetchError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const e = current as { message?: unknown; code?: unknown; errors?: unknown; cause?: unknown; name?: unknown };
    let text = typeof e.message === 'string' && e.message !== '' ? e.message : typeof current === 'string' ? current : '';
    if (text === '' && Array.isArray(e.errors)) text = e.errors.map((inner) => describeFetchError(inner)).join('; ');
    if (text === '' && typeof e.name === 'string') text = e.name;
    if (typeof e.code === 'string' && !text.includes(e.code)) text = text ? `${e.code}: ${text}` : e.code;
    if (text !== '' && !parts.some((part) => part.includes(text))) parts.push(text);
    current = typeof current === 'object' ? e.cause : undefined;
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

/** The error for a request to Gatehouse that got no answer: names the URL (printable) and the cause. */
export function unreachable(what: string, url: string | URL, error: unknown): UnavailableError {
  return new UnavailableError(`${what}: ${printableUrl(url)} unreachable: ${describeFetchError(error)}`, { cause: error });
}
