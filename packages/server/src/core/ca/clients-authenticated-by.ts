import type { X509Certificate } from 'node:crypto';
import type { ClientStore, OAuthClientRecord, PageCursor } from '../../storage/stores.js';
import { certificateMatchesClient } from '../oauth/tls-client-auth-match.js';

/**
 * The OAuth clients a certificate of the built-in CA would authenticate: the client it names, and every
 * tls_client_auth client whose registered subject it matches, of its tenant (a certificate issued for no tenant
 * may authenticate any tenant's clients). Whoever holds the certificate may do what each of them may do, so
 * issuing or revoking it is acting on all of them. Reads every client page by page: an administrative call only.
 */
export async function clientsAuthenticatedBy(
  store: ClientStore,
  certificate: X509Certificate,
  tenantId: string | null,
  boundClientId: string | null,
): Promise<OAuthClientRecord[]> {
  const found: OAuthClientRecord[] = [];
  let after: PageCursor | undefined;
  for (;;) {
    const page = await store.list({ ...(tenantId !== null ? { tenantId } : {}), limit: 500, ...(after ? { after } : {}) });
    for (const client of page) {
      if (client.deletedAt !== null) continue;
      const matches =
        client.id === boundClientId ||
        (client.tokenEndpointAuthMethod === 'tls_client_auth' && client.tlsClientAuth !== null && certificateMatchesClient(client.tlsClientAuth, certificate));
      if (matches) found.push(client);
    }
    if (page.length < 500) return found;
    const last = page[page.length - 1]!;
    after = { at: last.createdAt, id: last.id };
  }
}
