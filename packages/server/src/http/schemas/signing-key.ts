import { Type } from '@sinclair/typebox';
import { SIGNING_ALGS } from '../../core/tokens/signing-alg.js';
import type { SigningKeyInfo } from '../../core/tokens/signing-keys.js';
import { Nullable, Timestamp, toIso } from './common.js';

export const SigningAlgSchema = Type.Union(
  SIGNING_ALGS.map((alg) => Type.Literal(alg)),
  { description: 'JWS algorithm: EdDSA (Ed25519), ES256 (P-256) or RS256 (RSA 2048).' },
);

export const SigningKey = Type.Object(
  {
    kid: Type.String(),
    object: Type.Literal('signing_key'),
    alg: SigningAlgSchema,
    status: Type.Union([Type.Literal('pending'), Type.Literal('active'), Type.Literal('retired'), Type.Literal('expired')], {
      description:
        'pending: published, not signing yet; active: signing; retired: published so tokens it signed still ' +
        'verify, no longer signing; expired: no longer published.',
    }),
    createdAt: Timestamp,
    activatesAt: Timestamp,
    retiredAt: Nullable(Timestamp),
    publishUntil: Nullable(Timestamp),
  },
  { description: 'A JWT signing key. The private key is never shown; the public key is in the JWKS.' },
);

export function signingKeyView(key: SigningKeyInfo) {
  return {
    kid: key.kid,
    object: 'signing_key' as const,
    alg: key.alg,
    status: key.status,
    createdAt: toIso(key.createdAt)!,
    activatesAt: toIso(key.activatesAt)!,
    retiredAt: toIso(key.retiredAt),
    publishUntil: toIso(key.publishUntil),
  };
}

export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.String(),
          kid: Type.String(),
          alg: SigningAlgSchema,
          use: Type.Literal('sig'),
        },
        { additionalProperties: true, description: 'A public JWK (RFC 7517).' },
      ),
    ),
  },
  { description: 'JWK Set (RFC 7517 section 5): the public keys that verify Gatehouse tokens.' },
);
