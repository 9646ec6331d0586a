/**
 * The end client's address as the SDK forwards it to Gatehouse (`clientIp` of `POST /v1/keys/verify`), or
 * undefined when the value is not a well-formed IPv4 or IPv6 address: then nothing is sent, because a bad
 * address must never make a verification fail. A zone id (`fe80::1%eth0`) is dropped and an IPv4-mapped IPv6
 * address (`::ffff:203.0.113.7`, what a dual-stack socket reports for an IPv4 client) is unwrapped, as Gatehouse
 * itself does, so one client has one spelling (and one single-flight entry).
 *
 * node:net's `isIP` decides where the runtime has it (found with process.getBuiltinModule, so this module has no
 * `node:` import and still loads in other runtimes); elsewhere a strict parse (dotted quad, or the WHATWG URL
 * parser's IPv6 grammar) stands in.
 */
type IsIp = (value: string) => number;

const nodeIsIp: IsIp | undefined = (() => {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const net = getBuiltin?.('node:net') as { isIP?: IsIp } | undefined;
  return typeof net?.isIP === 'function' ? net.isIP : undefined;
})();

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_CHARACTERS = /^[0-9A-Fa-f:.]+$/;

/** node:net's isIP where node:net is missing (zone ids aside: refused). Exported for tests. */
export function parsedIsIp(value: string): number {
  if (IPV4.test(value)) return 4;
  // Only address characters reach the URL parser, so nothing but the host can be read from them.
  if (!value.includes(':') || !IPV6_CHARACTERS.test(value)) return 0;
  try {
    new URL(`http://[${value}]/`);
    return 6;
  } catch {
    return 0;
  }
}

const isIp: IsIp = nodeIsIp ?? parsedIsIp;

/** Longer than any address (an IPv6 address with an embedded IPv4 one is at most 45 characters, plus a zone). */
const MAX_INPUT_LENGTH = 128;
const MAPPED_PREFIX = '::ffff:';

export function forwardableClientIp(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.length > MAX_INPUT_LENGTH) return undefined;
  const family = isIp(value);
  if (family === 0) return undefined;
  if (family === 4) return value;
  const zone = value.indexOf('%');
  const address = zone === -1 ? value : value.slice(0, zone);
  const lower = address.toLowerCase();
  if (lower.startsWith(MAPPED_PREFIX) && address.includes('.')) {
    const ipv4 = address.slice(MAPPED_PREFIX.length);
    if (IPV4.test(ipv4)) return ipv4;
  }
  return address;
}
