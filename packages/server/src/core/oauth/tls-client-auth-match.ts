import type { X509Certificate } from 'node:crypto';
import type { TlsClientAuthSubject } from './client-metadata.js';

/** The SAN entries of a certificate as node:crypto prints them (`DNS:a, URI:b, IP Address:c, email:d`, values with
 * special characters quoted as JSON strings). */
export function subjectAltNames(certificate: X509Certificate): Array<{ type: string; value: string }> {
  const text = certificate.subjectAltName;
  if (!text) return [];
  const out: Array<{ type: string; value: string }> = [];
  const entry = /(DNS|URI|IP Address|email|[A-Za-z ]+?):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  let match: RegExpExecArray | null;
  while ((match = entry.exec(text)) !== null && match[0] !== '') {
    const raw = match[2]!;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        return out;
      }
    }
    out.push({ type: match[1]!, value });
  }
  return out;
}

/** Attribute types by OID and by other names, as node:crypto prints them (short names). */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
  E: 'EMAILADDRESS',
  S: 'ST',
};

type Attribute = [type: string, value: string];

/**
 * A distinguished name in RFC 4514 string syntax as RDNs of [TYPE, value] attributes (type upper-cased, aliases
 * named; value unescaped, `\,` and the like and `\XX` as UTF-8 bytes, then trimmed, spaces collapsed and
 * lower-cased). RDNs end at an unescaped character of `rdnSeparators`; the attributes of a multi-valued RDN are
 * joined by `+` and sorted. Undefined when an attribute has no `=` or no type.
 */
function parseRdns(text: string, rdnSeparators: string): Attribute[][] | undefined {
  const rdns: Attribute[][] = [];
  let rdn: Attribute[] = [];
  let type = '';
  let value = '';
  let inValue = false;
  let bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length === 0) return;
    value += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  const endAttribute = (): boolean => {
    flushBytes();
    const name = type.trim().toUpperCase();
    if (!inValue || name === '') return false;
    rdn.push([TYPE_ALIASES[name] ?? name, value.trim().replace(/\s+/g, ' ').toLowerCase()]);
    type = '';
    value = '';
    inValue = false;
    return true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const hex = text.slice(i + 1, i + 3);
      if (inValue && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      flushBytes();
      if (inValue) value += text[++i];
      else type += text[++i];
      continue;
    }
    flushBytes();
    if (c === '=' && !inValue) inValue = true;
    else if (c === '+') {
      if (!endAttribute()) return undefined;
    } else if (rdnSeparators.includes(c)) {
      if (!endAttribute()) return undefined;
      rdns.push(rdn.sort(byTypeThenValue));
      rdn = [];
    } else if (inValue) value += c;
    else type += c;
  }
  if (!endAttribute()) return undefined;
  rdns.push(rdn.sort(byTypeThenValue));
  return rdns;
}

const byTypeThenValue = (a: Attribute, b: Attribute) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1);
/** Unambiguous, whatever the values hold (a `+` or `=` in a value never reads as a separator). */
const joinRdns = (rdns: Attribute[][]) => JSON.stringify(rdns);

/**
 * distinguishedNameMatch, as far as Gatehouse needs it: the same RDNs in the same order (either way round: RFC 4514
 * text lists the most specific first, a certificate the least), the attributes of a multi-valued RDN in any order,
 * values compared caseless with runs of spaces as one.
 */
function dnMatches(registered: string, certificate: X509Certificate): boolean {
  const wanted = parseRdns(registered, ',;');
  // node:crypto prints the subject one RDN a line (least specific first), escaped as RFC 2253 escapes, with the
  // attributes of a multi-valued RDN joined by " + ".
  const actual = parseRdns(certificate.subject, '\n');
  if (!wanted || !actual) return false;
  const target = joinRdns(actual);
  return joinRdns(wanted) === target || joinRdns([...wanted].reverse()) === target;
}

/**
 * RFC 8705 section 2.1.2: whether the certificate carries the subject DN or the SAN entry the client registered.
 * SAN values are compared exactly (DNS names and e-mail domains caselessly); no wildcard expansion.
 */
export function certificateMatchesClient(registered: TlsClientAuthSubject, certificate: X509Certificate): boolean {
  if (registered.field === 'subject_dn') return dnMatches(registered.value, certificate);
  const type = { san_dns: 'DNS', san_uri: 'URI', san_ip: 'IP Address', san_email: 'email' }[registered.field];
  const caseless = registered.field === 'san_dns' || registered.field === 'san_email';
  const wanted = caseless ? registered.value.toLowerCase() : registered.value;
  return subjectAltNames(certificate).some((san) => san.type === type && (caseless ? san.value.toLowerCase() : san.value) === wanted);
}
