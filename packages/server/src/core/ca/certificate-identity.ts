/**
 * Who a Gatehouse client certificate names: an OAuth client (by id) or a service (by name), in the subject's
 * common name and in a SPIFFE-style SAN URI `spiffe://<trust domain>/client/<id>` or `.../service/<name>`.
 * A certificate issued for a tenant names it too, in the subject (`O=<tenant>`) and the URI
 * (`spiffe://<trust domain>/tenant/<tenant>/service/<name>`): service names are chosen freely, so without it a
 * tenant could issue a certificate that another tenant's tls_client_auth client registered as its own.
 */
export type CertificateBinding = { kind: 'client'; clientId: string } | { kind: 'service'; service: string };

/** A service name: a path segment of the SAN URI and a common name, so letters, digits, `.`, `_`, `-`. */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** SPIFFE trust domain names: lowercase letters, digits, `.`, `-`, `_`. */
export const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

/**
 * Whether a name can be a service's. Not one shaped like a client id (`cli_...`, any case): the subject would be
 * `CN=<that client id>`, exactly what a tls_client_auth client registers (DNs compare caselessly), so whoever may
 * issue a service certificate (a tenant's admin key included) could authenticate as any client, of any tenant.
 */
export function isServiceName(name: string): boolean {
  return SERVICE_NAME.test(name) && !/^cli_/i.test(name);
}

export function bindingName(binding: CertificateBinding): string {
  return binding.kind === 'client' ? binding.clientId : binding.service;
}

export function spiffeId(trustDomain: string, binding: CertificateBinding, tenantId: string | null): string {
  const tenant = tenantId === null ? '' : `tenant/${tenantId}/`;
  return `spiffe://${trustDomain}/${tenant}${binding.kind}/${bindingName(binding)}`;
}

const TENANT_SPIFFE_ID = /^spiffe:\/\/[^/]+\/tenant\/([A-Za-z0-9_-]{1,64})\/(?:client|service)\/[^/]+$/;

/**
 * The tenant a certificate of the built-in CA was issued for (from its SAN URIs), or null: issued by an
 * administrator of no tenant, for no tenant. Meaningful only for certificates the CA issued.
 */
export function certificateTenant(sanUris: readonly string[]): string | null {
  for (const uri of sanUris) {
    const match = TENANT_SPIFFE_ID.exec(uri);
    if (match) return match[1]!;
  }
  return null;
}

/** The default trust domain: the issuer's host name, lowercased, without brackets or port. */
export function defaultTrustDomain(issuer: string): string {
  return new URL(issuer).hostname.replace(/^\[|\]$/g, '').replace(/:/g, '-').toLowerCase();
}
