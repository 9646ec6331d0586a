// @peculiar/x509 2.x resolves its ASN.1 types through tsyringe, which needs the Reflect metadata API: the
// polyfill is loaded here, before the library, in the one module that imports it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

/**
 * The X.509 operations of the built-in CA, on @peculiar/x509 over Node's WebCrypto: key pairs, the root,
 * leaf certificates, CSRs and CRLs. No storage, no clock: times and serials are passed in.
 */

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const { subtle } = webcrypto;

/** ECDSA P-256 with SHA-256: the CA's key, the keys Gatehouse generates, and every signature it makes. */
export const CA_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(CA_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPkcs8(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await subtle.exportKey('pkcs8', key));
}

/** Imports a P-256 private key (PKCS#8 DER), not extractable: it only ever signs. */
export async function importCaPrivateKey(der: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', der, CA_ALGORITHM, false, ['sign']);
}

export function privateKeyPem(der: Buffer): string {
  return withNewline(x509.PemConverter.encode(der, 'PRIVATE KEY'));
}

/** PEM text ends with a line break, so that blocks can be concatenated into bundles. */
const withNewline = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/** 16 random bytes as hex, the first one in 0x10..0x7f: positive, no leading zero, always 32 digits. */
export function newSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = 0x10 + (bytes[0]! % 0x70);
  return Buffer.from(bytes).toString('hex');
}

export interface RootInput {
  keys: CryptoKeyPair;
  commonName: string;
  serialNumber: string;
  notBefore: number;
  notAfter: number;
}

/** A self-signed root: CA, path length 0 (it signs leaves only), keyCertSign and cRLSign. */
export async function createRootCertificate(input: RootInput): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: input.serialNumber,
    name: [{ CN: [input.commonName] }, { O: ['Gatehouse'] }],
    notBefore: new Date(input.notBefore),
    notAfter: new Date(input.notAfter),
    signingAlgorithm: CA_ALGORITHM,
    keys: input.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(input.keys.publicKey),
    ],
  });
  return withNewline(cert.toString('pem'));
}

export interface Issuer {
  certificatePem: string;
  privateKey: CryptoKey;
}

export interface LeafInput {
  issuer: Issuer;
  publicKey: CryptoKey | x509.PublicKey;
  serialNumber: string;
  commonName: string;
  /** The subject's O (the tenant of a client certificate issued for one). */
  organization?: string | undefined;
  notBefore: number;
  notAfter: number;
  /** clientAuth certificates for callers; serverAuth for the TLS listener's own certificate. */
  usage: 'client' | 'server';
  uris?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Where the issuer's CRL is published (CRL distribution point). */
  crlUrl?: string | undefined;
}

export interface IssuedLeaf {
  pem: string;
  der: Buffer;
}

/** Signs an end-entity certificate. The subject is `CN=<commonName>` (and `O=<organization>`); identity is in the SANs too. */
export async function issueLeafCertificate(input: LeafInput): Promise<IssuedLeaf> {
  const issuerCert = new x509.X509Certificate(input.issuer.certificatePem);
  const names: x509.JsonGeneralName[] = [
    ...(input.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(input.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(input.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([input.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(issuerCert),
    await x509.SubjectKeyIdentifierExtension.create(input.publicKey as CryptoKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (input.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([input.crlUrl]));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: input.serialNumber,
    subject: input.organization === undefined ? [{ CN: [input.commonName] }] : [{ CN: [input.commonName] }, { O: [input.organization] }],
    issuer: issuerCert.subject,
    notBefore: new Date(input.notBefore),
    notAfter: new Date(input.notAfter),
    signingAlgorithm: CA_ALGORITHM,
    publicKey: input.publicKey,
    signingKey: input.issuer.privateKey,
    extensions,
  });
  return { pem: withNewline(cert.toString('pem')), der: Buffer.from(cert.rawData) };
}

export type ParsedCsr =
  | { ok: true; publicKey: x509.PublicKey; commonName: string | undefined }
  | { ok: false; reason: string };

/** Key types accepted in a CSR: what TLS client authentication commonly uses. */
function acceptableKey(algorithm: Algorithm & { namedCurve?: string; modulusLength?: number }): boolean {
  switch (algorithm.name) {
    case 'ECDSA':
      return algorithm.namedCurve === 'P-256' || algorithm.namedCurve === 'P-384';
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS':
      return (algorithm.modulusLength ?? 0) >= 2048;
    case 'Ed25519':
      return true;
    default:
      return false;
  }
}

/**
 * A PKCS#10 request (PEM): parsed, its self-signature checked (proof of possession of the private key), its key
 * type allowed. Only the public key and the common name are taken from it; Gatehouse decides every other field.
 */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch {
    return { ok: false, reason: 'The csr is not a PEM-encoded PKCS#10 certificate request.' };
  }
  let publicKey: CryptoKey;
  try {
    publicKey = await csr.publicKey.export();
  } catch {
    return { ok: false, reason: 'The csr key type is not supported (use ECDSA P-256/P-384, Ed25519 or RSA >= 2048).' };
  }
  if (!acceptableKey(publicKey.algorithm as Algorithm)) {
    return { ok: false, reason: 'The csr key type is not supported (use ECDSA P-256/P-384, Ed25519 or RSA >= 2048).' };
  }
  const valid = await csr.verify().catch(() => false);
  if (!valid) return { ok: false, reason: 'The csr signature does not verify.' };
  const commonName = csr.subjectName.getField('CN')[0];
  return { ok: true, publicKey: csr.publicKey, commonName };
}

export interface CrlInput {
  issuer: Issuer;
  thisUpdate: number;
  nextUpdate: number;
  crlNumber: number;
  entries: ReadonlyArray<{ serialNumber: string; revokedAt: number }>;
}

const CRL_NUMBER_OID = '2.5.29.20';

/** DER INTEGER of a non-negative whole number (the CRL number extension's value). */
function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  let n = BigInt(value);
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/** A CRL (RFC 5280 section 5), DER, with a CRL number. */
export async function createCrl(input: CrlInput): Promise<Buffer> {
  const issuerCert = new x509.X509Certificate(input.issuer.certificatePem);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuerCert.subject,
    thisUpdate: new Date(input.thisUpdate),
    nextUpdate: new Date(input.nextUpdate),
    entries: input.entries.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: new Date(entry.revokedAt) })),
    signingAlgorithm: CA_ALGORITHM,
    signingKey: input.issuer.privateKey,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuerCert), new x509.Extension(CRL_NUMBER_OID, false, derInteger(input.crlNumber))],
  });
  return Buffer.from(crl.rawData);
}

/** PEM with the given label, for DER bytes. */
export function toPem(der: Uint8Array, label: 'CERTIFICATE' | 'X509 CRL'): string {
  return withNewline(x509.PemConverter.encode(der, label));
}

/** A CSR for `commonName` with a fresh P-256 key (for `gatehouse cert renew`: the key never leaves the host). */
export async function createCsr(commonName: string): Promise<{ csrPem: string; privateKeyPem: string }> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm: CA_ALGORITHM,
  });
  const der = await exportPkcs8(keys.privateKey);
  try {
    return { csrPem: withNewline(csr.toString('pem')), privateKeyPem: privateKeyPem(der) };
  } finally {
    der.fill(0);
  }
}

