import { Type } from '@sinclair/typebox';
import type { AuthorityInfo } from '../../core/ca/certificate-authority.js';
import type { IssuedCertificateRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Timestamp, toIso } from './common.js';

export const SerialParams = Type.Object(
  { serial: Type.String({ pattern: '^[0-9A-Fa-f]{2,64}$', description: 'The serial number, hex.' }) },
  { additionalProperties: false },
);

export const CertificateStatus = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]);

export const Certificate = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('certificate'),
    serialNumber: Type.String({ description: 'Lowercase hex.' }),
    status: CertificateStatus,
    commonName: Type.String({ description: 'The subject CN: the OAuth client id or the service name.' }),
    clientId: Nullable(Type.String()),
    service: Nullable(Type.String()),
    sanUri: Type.String({ description: 'spiffe://<trust domain>/client/<id> or spiffe://<trust domain>/service/<name>' }),
    thumbprint: Type.String({ description: 'RFC 8705 x5t#S256: base64url SHA-256 of the DER certificate (the `cnf` of bound tokens).' }),
    authorityId: Type.String(),
    keyGenerated: Type.Boolean({ description: 'Gatehouse generated the key pair (and returned the private key once).' }),
    tenantId: Nullable(TenantId),
    notBefore: Timestamp,
    notAfter: Timestamp,
    createdAt: Timestamp,
    revokedAt: Nullable(Timestamp),
    revokedReason: Nullable(Type.String()),
    certificatePem: Type.String(),
  },
  { description: 'A client certificate issued by the built-in CA. Its private key is never stored.' },
);

export const IssuedCertificateResponse = Type.Intersect([
  Certificate,
  Type.Object({
    caCertificatePem: Type.String({ description: 'The issuing CA certificate.' }),
    privateKeyPem: Nullable(Type.String({ description: 'PKCS#8 PEM, shown once when Gatehouse generated the key; null for a CSR.' })),
  }),
]);

export function certificateStatus(c: IssuedCertificateRecord, now: number): 'active' | 'expired' | 'revoked' {
  if (c.revokedAt !== null) return 'revoked';
  return c.notAfter <= now ? 'expired' : 'active';
}

export function certificateView(c: IssuedCertificateRecord, now: number) {
  return {
    id: c.id,
    object: 'certificate' as const,
    serialNumber: c.serialNumber,
    status: certificateStatus(c, now),
    commonName: c.commonName,
    clientId: c.clientId,
    service: c.service,
    sanUri: c.sanUri,
    thumbprint: c.thumbprint,
    authorityId: c.authorityId,
    keyGenerated: c.keyGenerated,
    tenantId: c.tenantId,
    notBefore: toIso(c.notBefore)!,
    notAfter: toIso(c.notAfter)!,
    createdAt: toIso(c.createdAt)!,
    revokedAt: toIso(c.revokedAt),
    revokedReason: c.revokedReason,
    certificatePem: c.certificatePem,
  };
}

export const CertificateAuthorityInfo = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('certificate_authority'),
    status: Type.Union([Type.Literal('active'), Type.Literal('retired')], {
      description: 'active: issues certificates; retired: no longer issues, still trusted until trustedUntil.',
    }),
    createdAt: Timestamp,
    notAfter: Timestamp,
    retiredAt: Nullable(Timestamp),
    trustedUntil: Nullable(Timestamp),
    certificatePem: Type.String(),
  },
  { description: 'A root of the built-in CA. Its private key is never shown.' },
);

export function authorityView(a: AuthorityInfo) {
  return {
    id: a.id,
    object: 'certificate_authority' as const,
    status: a.status,
    createdAt: toIso(a.createdAt)!,
    notAfter: toIso(a.notAfter)!,
    retiredAt: toIso(a.retiredAt),
    trustedUntil: toIso(a.trustedUntil),
    certificatePem: a.certificatePem,
  };
}
