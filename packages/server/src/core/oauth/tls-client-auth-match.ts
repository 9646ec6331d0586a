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

/** RFC 4514 text (`CN=a,O=b`, most specific first) as [TYPE, value] pairs; `\,` and friends unescaped. */
function parseDn(dn: string): Array<[string, string]> | undefined {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) current += dn[++i];
    else if (c === ',' || c === ';') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  const pairs: Array<[string, string]> = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    pairs.push([part.slice(0, eq).trim().toUpperCase(), part.slice(eq + 1).trim()]);
  }
  return pairs;
}

const normalise = (pairs: Array<[string, string]>) => pairs.map(([type, value]) => `${type}=${value.replace(/\s+/g, ' ').toLowerCase()}`).join('\n');

/** distinguishedNameMatch, as far as Gatehouse needs it: same attributes in the same order, values compared caseless. */
function dnMatches(registered: string, certificate: X509Certificate): boolean {
  const wanted = parseDn(registered);
  if (!wanted) return false;
  // node:crypto lists the subject's RDNs in certificate order (least specific first), one per line.
  const actual = certificate.subject.split('\n').map((line): [string, string] => {
    const eq = line.indexOf('=');
    return [line.slice(0, eq).toUpperCase(), line.slice(eq + 1)];
  });
  const target = normalise(actual);
  return normalise([...wanted].reverse()) === target || normalise(wanted) === target;
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
