import { hash } from 'node:crypto';

/**
 * RFC 8705 section 3.1: the `x5t#S256` confirmation of a certificate-bound token, the base64url SHA-256 of the
 * certificate's DER encoding.
 */
export function certificateThumbprint(der: Uint8Array): string {
  return hash('sha256', der, 'base64url');
}
