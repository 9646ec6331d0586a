import { apiKeyShapesIn } from 'gatehouse-sdk';
import { parseApiKey } from '../api-keys/key-format.js';

/**
 * What `gatehouse scan` recognises in text. Gatehouse API keys always, and only when their checksum is valid
 * (so look-alikes and typos are not reported), of every prefix: `sk`, this deployment's GATEHOUSE_KEY_PREFIX and
 * any earlier one, with no configuration (the checksum covers the prefix); the other formats with --all-formats,
 * by shape alone. Each
 * finding carries a display prefix: enough to recognise the secret, never enough to use it.
 */
export const SECRET_FORMATS = {
  gatehouse_api_key:
    'Gatehouse API key: <prefix>_live_ / <prefix>_test_ (sk_ by default, or a deployment\'s GATEHOUSE_KEY_PREFIX) + 49 base62 characters, CRC-32 checksum verified',
  gatehouse_client_secret: 'Gatehouse OAuth client secret: cs_ + 43 base62 characters',
  gatehouse_refresh_token: 'Gatehouse refresh token: gatehouse_rt_ (or ghr_, as earlier versions issued them) + 43 base64url characters',
  gatehouse_registration_access_token: 'Gatehouse registration access token (RFC 7592): rat_ + 43 base62 characters',
  gatehouse_initial_access_token: 'Gatehouse initial access token (Dynamic Client Registration): iat_ + 43 base62 characters',
  aws_access_key_id: 'AWS access key id: AKIA / ASIA + 16 upper-case letters and digits',
  github_token: 'GitHub token: ghp_ / gho_ / ghu_ / ghs_ / ghr_ + 36 characters, or github_pat_ + 82',
  stripe_secret_key: 'Stripe live secret or restricted key: sk_live_ / rk_live_ + 24 or more characters (not exactly 49: the shape of a Gatehouse key)',
  slack_token: 'Slack token: xoxb- / xoxp- / xoxa- / xoxr- / xoxs- + 10 or more characters',
  private_key: 'PEM private key header: -----BEGIN [RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP] PRIVATE KEY[ BLOCK]-----',
} as const;
export type SecretKind = keyof typeof SECRET_FORMATS;

export interface SecretMatch {
  kind: SecretKind;
  /** The secret itself: for verification and revocation only, never to be printed. */
  value: string;
  /** 0-based offset in the text searched. */
  index: number;
  displayPrefix: string;
}

interface Pattern {
  kind: Exclude<SecretKind, 'gatehouse_api_key'>;
  regex: RegExp;
  /** Characters of the match shown: its literal prefix and a few more. */
  shown(value: string): string;
}

/** Exactly a Gatehouse key's shape with the default prefix: one with a bad checksum is a look-alike, not a Stripe key. */
const GATEHOUSE_SHAPE = /^sk_(?:live|test)_[0-9A-Za-z]{49}$/;

const OTHER_PATTERNS: Pattern[] = [
  { kind: 'gatehouse_client_secret', regex: /(?<![0-9A-Za-z_])cs_[0-9A-Za-z]{43}(?![0-9A-Za-z])/g, shown: (v) => v.slice(0, 9) },
  { kind: 'gatehouse_refresh_token', regex: /(?<![0-9A-Za-z_-])gatehouse_rt_[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])/g, shown: (v) => v.slice(0, 17) },
  { kind: 'gatehouse_registration_access_token', regex: /(?<![0-9A-Za-z_])rat_[0-9A-Za-z]{43}(?![0-9A-Za-z])/g, shown: (v) => v.slice(0, 10) },
  { kind: 'gatehouse_initial_access_token', regex: /(?<![0-9A-Za-z_])iat_[0-9A-Za-z]{43}(?![0-9A-Za-z])/g, shown: (v) => v.slice(0, 10) },
  // Issued before the prefix above; their 43 characters tell them from GitHub's ghr_ tokens (36).
  { kind: 'gatehouse_refresh_token', regex: /(?<![0-9A-Za-z_-])ghr_[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])/g, shown: (v) => v.slice(0, 8) },
  { kind: 'aws_access_key_id', regex: /(?<![0-9A-Z])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])/g, shown: (v) => v.slice(0, 8) },
  { kind: 'github_token', regex: /(?<![0-9A-Za-z_])gh[pousr]_[0-9A-Za-z]{36}(?![0-9A-Za-z_-])/g, shown: (v) => v.slice(0, 8) },
  { kind: 'github_token', regex: /(?<![0-9A-Za-z_])github_pat_[0-9A-Za-z_]{82}(?![0-9A-Za-z_])/g, shown: (v) => v.slice(0, 15) },
  { kind: 'stripe_secret_key', regex: /(?<![0-9A-Za-z_])[sr]k_live_[0-9A-Za-z]{24,}(?![0-9A-Za-z])/g, shown: (v) => v.slice(0, 12) },
  { kind: 'slack_token', regex: /(?<![0-9A-Za-z])xox[baprs]-[0-9A-Za-z-]{10,}/g, shown: (v) => v.slice(0, 9) },
  {
    kind: 'private_key',
    regex: /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/g,
    shown: (v) => v,
  },
];

/** Every secret in `text` (one line, typically), in order of position, none overlapping another. */
export function findSecrets(text: string, options: { allFormats: boolean }): SecretMatch[] {
  const found: SecretMatch[] = [];
  for (const match of apiKeyShapesIn(text)) {
    const parsed = parseApiKey(match[0]);
    if (parsed.ok) found.push({ kind: 'gatehouse_api_key', value: match[0], index: match.index, displayPrefix: parsed.displayPrefix });
  }
  if (options.allFormats) {
    for (const pattern of OTHER_PATTERNS) {
      for (const match of text.matchAll(pattern.regex)) {
        if (pattern.kind === 'stripe_secret_key' && GATEHOUSE_SHAPE.test(match[0])) continue;
        const end = match.index + match[0].length;
        if (found.some((other) => match.index < other.index + other.value.length && other.index < end)) continue;
        found.push({ kind: pattern.kind, value: match[0], index: match.index, displayPrefix: pattern.shown(match[0]) });
      }
    }
  }
  return found.sort((a, b) => a.index - b.index);
}
