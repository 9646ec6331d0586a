import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, newSerialNumber } from '../src/core/ca/x509.js';
import { certificateMatchesClient } from '../src/core/oauth/tls-client-auth-match.js';

/** A certificate whose subject is `name` (RFC 4514 text, in certificate order: least specific first). */
async function certificateNamed(name: string): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerialNumber(),
    name,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
  });
  return new X509Certificate(cert.toString('pem'));
}

const dn = (value: string) => ({ field: 'subject_dn' as const, value });

describe('tls_client_auth_subject_dn matching (RFC 8705 section 2.1.2, RFC 4514 text)', () => {
  let acme: X509Certificate;
  let separate: X509Certificate;
  let plus: X509Certificate;
  let accented: X509Certificate;
  beforeAll(async () => {
    // One multi-valued RDN (OU and CN), and an O holding a comma.
    acme = await certificateNamed('C=US, O=Acme\\, Inc., OU=Ops+CN=svc one');
    // The same attributes, but OU and CN as two RDNs.
    separate = await certificateNamed('C=US, O=Acme\\, Inc., OU=Ops, CN=svc one');
    plus = await certificateNamed('CN=a\\+1.2.3=b');
    accented = await certificateNamed('CN=café');
  });

  it('reads escapes and multi-valued RDNs as node:crypto prints them', () => {
    expect(acme.subject).toBe('C=US\nO=Acme\\, Inc.\nOU=Ops + CN=svc one');
  });

  it('matches escaped characters, multi-valued RDNs in any order, either RDN order, caseless, OIDs and hex escapes', () => {
    for (const value of [
      'CN=svc one+OU=Ops,O=Acme\\, Inc.,C=US',
      'OU=Ops+CN=svc one,O=Acme\\, Inc.,C=US',
      'C=US,O=Acme\\, Inc.,OU=Ops+CN=svc one',
      'cn=SVC  One + ou=ops, o=ACME\\, inc., c=us',
      '2.5.4.3=svc one+2.5.4.11=Ops;2.5.4.10=Acme\\2C Inc.;2.5.4.6=US',
    ]) {
      expect(certificateMatchesClient(dn(value), acme), value).toBe(true);
    }
    expect(certificateMatchesClient(dn('CN=caf\\C3\\A9'), accented)).toBe(true);
    expect(certificateMatchesClient(dn('CN=a\\+1.2.3=b'), plus)).toBe(true);
  });

  it('refuses a different structure, value, or set of attributes', () => {
    const refused: Array<[string, X509Certificate]> = [
      // A multi-valued RDN is not two RDNs, and the other way round.
      ['CN=svc one+OU=Ops,O=Acme\\, Inc.,C=US', separate],
      ['CN=svc one,OU=Ops,O=Acme\\, Inc.,C=US', acme],
      // An unescaped comma splits the O into two RDNs.
      ['CN=svc one+OU=Ops,O=Acme, Inc.,C=US', acme],
      ['CN=svc one+OU=Ops,O=Acme\\, Inc.', acme],
      ['CN=svc two+OU=Ops,O=Acme\\, Inc.,C=US', acme],
      ['CN=svc one+OU=Ops+L=x,O=Acme\\, Inc.,C=US', acme],
      // An escaped plus is part of the value, never a second attribute (and the reverse).
      ['CN=a+1.2.3=b', plus],
      ['CN=cafe', accented],
      ['CN', accented],
      ['=café', accented],
      ['', accented],
    ];
    for (const [value, certificate] of refused) {
      expect(certificateMatchesClient(dn(value), certificate), value).toBe(false);
    }
  });
});
