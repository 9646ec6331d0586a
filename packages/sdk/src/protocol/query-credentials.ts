/**
 * Query parameters that carry credentials in other APIs. Gatehouse and the SDK's middleware refuse a request
 * naming any of them (URLs end up in logs, proxies and browser history), under any spelling that a framework or
 * a careless client may use for the same name: see `credentialParameter`.
 */
export const QUERY_CREDENTIAL_PARAMS = ['access_token', 'api_key', 'apikey', 'token', 'key', 'client_secret'] as const;

export type QueryCredentialParam = (typeof QUERY_CREDENTIAL_PARAMS)[number];

const EXACT: ReadonlySet<string> = new Set(QUERY_CREDENTIAL_PARAMS);
/** The list with separators dropped (`API-KEY` is `api_key`); the first entry wins where two meet. */
const NORMALISED = new Map<string, QueryCredentialParam>();
for (const name of QUERY_CREDENTIAL_PARAMS) if (!NORMALISED.has(name.replace(/[-_]/g, ''))) NORMALISED.set(name.replace(/[-_]/g, ''), name);
/** Drops the trailing bracket groups of array and object forms: `api_key[]`, `api_key[0]`, `api_key[a][b]`. */
function withoutBrackets(name: string): string {
  let end = name.length;
  while (end > 0 && name[end - 1] === ']') {
    const open = name.lastIndexOf('[', end - 2);
    if (open === -1) break;
    end = open;
  }
  return name.slice(0, end);
}

/**
 * The credential parameter a query parameter's (already percent-decoded) name stands for, if any, as its entry in
 * QUERY_CREDENTIAL_PARAMS. Names are compared caselessly, without their bracket suffixes (PHP/qs array and
 * object forms, which many frameworks read as the plain name), without `-` and `_` (so `access-token` and
 * `accesstoken` are `access_token`), and without surrounding white space.
 */
export function credentialParameter(name: string): QueryCredentialParam | undefined {
  const lower = withoutBrackets(name.trim()).trim().toLowerCase();
  return EXACT.has(lower) ? (lower as QueryCredentialParam) : NORMALISED.get(lower.replace(/[-_]/g, ''));
}

/**
 * The credential parameter named in the query of `url` (a path or URL with an optional query and fragment),
 * if any, as its entry in QUERY_CREDENTIAL_PARAMS (never the name as sent, so it is safe to log).
 */
export function credentialInQuery(url: string | undefined): QueryCredentialParam | undefined {
  if (url === undefined) return undefined;
  const mark = url.indexOf('?');
  if (mark === -1) return undefined;
  const end = url.indexOf('#', mark);
  for (const name of new URLSearchParams(url.slice(mark + 1, end === -1 ? undefined : end)).keys()) {
    const found = credentialParameter(name);
    if (found !== undefined) return found;
  }
  return undefined;
}
