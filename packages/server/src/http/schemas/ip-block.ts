import { Type } from '@sinclair/typebox';
import type { IpBlockRecord } from '../../storage/stores.js';
import { Nullable, Timestamp, toIso } from './common.js';

export const IpBlock = Type.Object(
  {
    ip: Type.String({ description: 'The blocked client: an IPv4 address, or the /64 network of an IPv6 address (e.g. 2001:db8:1:2::/64).' }),
    object: Type.Literal('ip_block'),
    reason: Type.String({ description: 'Why it was blocked, e.g. brute_force.' }),
    failures: Nullable(Type.Integer({ description: 'Failed authentications counted in the window that led to the block.' })),
    createdAt: Timestamp,
    expiresAt: Timestamp,
  },
  { description: 'A client address refused (429 ip_blocked) until expiresAt.' },
);

export const IpParams = Type.Object({
  ip: Type.String({ minLength: 2, maxLength: 64, description: 'An IPv4 or IPv6 address (an IPv6 address names its /64), or an IPv6 /64 (URL-encoded).' }),
});

export function ipBlockView(block: IpBlockRecord) {
  return {
    ip: block.ip,
    object: 'ip_block' as const,
    reason: block.reason,
    failures: block.failures,
    createdAt: toIso(block.createdAt)!,
    expiresAt: toIso(block.expiresAt)!,
  };
}
