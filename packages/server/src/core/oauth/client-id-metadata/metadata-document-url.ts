/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, as the MCP authorization spec
 * 2025-11-25 uses it): a `client_id` that is an https URL names a JSON document describing the client.
 *
 * Stored clients' ids are `cli_` + 22 characters and the built-in ones `cli_...` too, so any client_id that starts
 * with `https://` is meant as a metadata document URL: it is resolved through the document or refused, never
 * looked up among stored clients.
 */

/** The longest client_id URL accepted (the token endpoint's bound on any client credential). */
export const MAX_CLIENT_ID_URL_LENGTH = 1024;

/** Printable ASCII, no spaces: anything else must be percent-encoded. */
const PRINTABLE_ASCII = /^[\x21-\x7E]+$/;
/** A path segment that is `.` or `..`, literally or percent-encoded. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** Whether this client_id is meant as a Client ID Metadata Document URL (it may still be refused). */
export function isMetadataDocumentClientId(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/**
 * Why a client_id is not an acceptable metadata document URL, or null. The draft's rules (section 3): https, a
 * path, no fragment, no user info, no `.` or `..` segments; plus, so that what the user is shown and what is
 * fetched are the same, the URL must be written in its canonical form (WHATWG URL serialization: lowercase host,
 * no default port, nothing normalised away). A query is accepted (the draft says SHOULD NOT, not MUST NOT).
 */
export function metadataDocumentUrlProblem(clientId: string): string | null {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return 'url_too_long';
  if (!PRINTABLE_ASCII.test(clientId)) return 'url_not_printable_ascii';
  if (!clientId.startsWith('https://')) return 'url_not_https';
  if (clientId.includes('#')) return 'url_has_fragment';
  const authority = clientId.slice('https://'.length).split(/[/?]/, 1)[0]!;
  if (authority.includes('@')) return 'url_has_userinfo';
  const afterAuthority = clientId.slice('https://'.length + authority.length);
  const path = afterAuthority.split('?', 1)[0]!;
  if (path === '' || path === '/') return 'url_has_no_path';
  if (DOT_SEGMENT.test(path)) return 'url_has_dot_segment';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'url_invalid';
  }
  if (url.hostname === '') return 'url_has_no_host';
  if (url.href !== clientId) return 'url_not_canonical';
  return null;
}

/** The host (name or IP literal, without brackets or port) a metadata document URL is fetched from. */
export function documentHost(clientId: string): string {
  return new URL(clientId).hostname.replace(/^\[(.*)\]$/, '$1');
}
