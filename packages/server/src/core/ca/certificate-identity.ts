/**
 * Who a Gatehouse client certificate names: an OAuth client (by id) or a service (by name), in the subject's
 * common name and in a SPIFFE-style SAN URI `spiffe://<trust domain>/client/<id>` or `.../service/<name>`.
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

export function spiffeId(trustDomain: string, binding: CertificateBinding): string {
  return `spiffe://${trustDomain}/${binding.kind}/${bindingName(binding)}`;
}

/** The binding a SAN URI of this trust domain names, if it is one of Gatehouse's. */
export function parseSpiffeId(uri: string, trustDomain: string): CertificateBinding | undefined {
  const prefix = `spiffe://${trustDomain}/`;
  if (!uri.startsWith(prefix)) return undefined;
  const [kind, name, ...rest] = uri.slice(prefix.length).split('/');
  if (rest.length > 0 || name === undefined || !SERVICE_NAME.test(name)) return undefined;
  if (kind === 'client') return { kind: 'client', clientId: name };
  if (kind === 'service') return { kind: 'service', service: name };
  return undefined;
}

/** The default trust domain: the issuer's host name, lowercased, without brackets or port. */
export function defaultTrustDomain(issuer: string): string {
  return new URL(issuer).hostname.replace(/^\[|\]$/g, '').replace(/:/g, '-').toLowerCase();
}
