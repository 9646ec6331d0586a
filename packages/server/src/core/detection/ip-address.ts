import { BlockList, SocketAddress, isIP } from 'node:net';

/**
 * Client addresses as detection keys them: canonical text (lowercase, compressed IPv6), with IPv4-mapped IPv6
 * addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports for an IPv4 client) unwrapped to IPv4, so one
 * client has one key however it connected.
 */

const MAPPED_PREFIX = '::ffff:';

/** The canonical form of an address, or undefined when it is not an IP address. */
export function canonicalIp(value: string): string | undefined {
  const family = isIP(value);
  if (family === 0) return undefined;
  const address = new SocketAddress({ address: value, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
  return address.startsWith(MAPPED_PREFIX) && address.includes('.') ? address.slice(MAPPED_PREFIX.length) : address;
}

/**
 * The key of an address Node reported (socket, request.ip): those are canonical already, so only the IPv4
 * mapping is undone. Cheap enough for every request.
 */
export function ipKey(address: string): string {
  return address.startsWith(MAPPED_PREFIX) && address.includes('.') ? address.slice(MAPPED_PREFIX.length) : address;
}

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128); undefined when malformed. */
export function parseNetwork(entry: string): Network | undefined {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A membership test for a list of networks (already validated by the configuration). */
export function networkMatcher(entries: readonly string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const network = parseNetwork(entry);
    if (network) list.addSubnet(network.address, network.prefix, network.family);
  }
  return (ip) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** The first `count` groups of a canonical IPv6 address, as written in canonical text (no leading zeros). */
function ipv6Prefix(ip: string, count: number): string {
  const [head = '', tail] = ip.split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined && groups.length < count) {
    // An embedded IPv4 address (the last 32 bits) counts as two groups.
    const tailGroups = tail === '' ? [] : tail.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
    while (groups.length + tailGroups.length < 8) groups.push('0');
    groups.push(...tailGroups);
  }
  const first = groups.slice(0, count).map((group) => group.replace(/^0+(?=.)/, ''));
  // Back to canonical text: trailing zero groups of the prefix compress into '::'.
  while (first.length > 0 && first[first.length - 1] === '0') first.pop();
  return `${first.join(':')}::`;
}

/**
 * The network a credential is used from, for anomaly detection: the /24 of an IPv4 address, the /48 of an
 * IPv6 one (what one site is usually given). `ip` is a canonical address.
 */
export function networkOf(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  return `${ipv6Prefix(ip, 3)}/48`;
}

/**
 * Who a failed authentication is counted against and who is blocked, from an address as Node reports it (or a
 * canonical one): an IPv4 address itself, but the /64 of an IPv6 address. Every IPv6 host is given at least a
 * /64 and can use any address in it, so counting single IPv6 addresses would let one client try without limit.
 */
export function clientKey(address: string): string {
  const ip = ipKey(address);
  return ip.includes(':') ? `${ipv6Prefix(ip, 4)}/64` : ip;
}

/**
 * A client key from what an operator typed (DELETE /v1/blocks/{ip}): an address, or an IPv6 /64 network
 * given as its prefix; undefined when it is neither.
 */
export function parseClientKey(value: string): string | undefined {
  const [address = '', prefix, extra] = value.split('/');
  if (extra !== undefined || (prefix !== undefined && prefix !== '64')) return undefined;
  const ip = canonicalIp(address);
  if (ip === undefined || (prefix !== undefined && !ip.includes(':'))) return undefined;
  return clientKey(ip);
}
