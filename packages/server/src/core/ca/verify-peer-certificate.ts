import type { X509Certificate } from 'node:crypto';

/** A certificate authority the verifier trusts: its certificate and its id. */
export interface TrustedAuthority {
  id: string;
  certificate: X509Certificate;
}

export type PeerCertificateVerdict =
  /** Issued by a trusted authority, in its validity period, not revoked. */
  | { ok: true; kind: 'issued'; authorityId: string }
  /**
   * Signed by its own key and in its validity period: no authority vouches for it, so it proves only possession
   * of a key a client registered (self_signed_tls_client_auth) or binds tokens to it (RFC 8705 sections 2.2, 3).
   */
  | { ok: true; kind: 'self_signed' }
  | { ok: false; reason: 'unknown_ca' | 'expired' | 'not_yet_valid' | 'revoked' | 'wrong_key_usage' };

/** RFC 5280 4.2.1.12: TLS client authentication, and the "any purpose" extended key usage. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

export interface PeerCertificateTrust {
  authorities: readonly TrustedAuthority[];
  /** Serial numbers (lowercase hex) of revoked certificates. */
  isRevoked(serialNumber: string): boolean;
}

/**
 * Decides whether a certificate a client presented is acceptable. Pure and synchronous (it runs for each TLS
 * connection, and again for each request that uses the certificate): not a CA, an extended key usage allowing clientAuth (when it has one); node:crypto checks the
 * issuer's name and signature; the certificate and its issuer must both be in their validity periods; times come
 * from `now`, not from the system clock, so tests can freeze them.
 */
export function verifyPeerCertificate(certificate: X509Certificate, trust: PeerCertificateTrust, now: number): PeerCertificateVerdict {
  // A CA certificate is never a client's (only its key holder could present it, but it is not an identity).
  if (certificate.ca) return { ok: false, reason: 'unknown_ca' };
  // An extended key usage, when present, must allow client authentication (as OpenSSL's "sslclient" purpose):
  // a server certificate, the TLS listener's own included, is not a client's.
  const usages = certificate.keyUsage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
    return { ok: false, reason: 'wrong_key_usage' };
  }
  const authority = trust.authorities.find((a) => certificate.checkIssued(a.certificate) && certificate.verify(a.certificate.publicKey));
  if (!authority && !(certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey))) {
    return { ok: false, reason: 'unknown_ca' };
  }
  if (now < Date.parse(certificate.validFrom)) return { ok: false, reason: 'not_yet_valid' };
  if (now > Date.parse(certificate.validTo)) return { ok: false, reason: 'expired' };
  if (!authority) return { ok: true, kind: 'self_signed' };
  // A chain is valid only while every certificate in it is (RFC 5280 6.1.3): the issuing authority's too.
  if (now < Date.parse(authority.certificate.validFrom)) return { ok: false, reason: 'not_yet_valid' };
  if (now > Date.parse(authority.certificate.validTo)) return { ok: false, reason: 'expired' };
  if (trust.isRevoked(certificate.serialNumber.toLowerCase())) return { ok: false, reason: 'revoked' };
  return { ok: true, kind: 'issued', authorityId: authority.id };
}
