import { readFileSync } from 'node:fs';

/** How the login, consent and logout pages are branded (GATEHOUSE_BRAND_*), without editing templates. */
export interface PageBranding {
  /** Shown at the top of every page and in its title; default "Gatehouse". */
  name: string;
  /** An https URL or a path on this server; the pages' CSP allows exactly its origin for images. */
  logoUrl: string | null;
  /** `#rrggbb`: the accent colour (buttons, links, focus rings). */
  color: string | null;
}

export const DEFAULT_BRANDING: PageBranding = { name: 'Gatehouse', logoUrl: null, color: null };

const MAX_SCOPE_DESCRIPTIONS = 1000;

/** GATEHOUSE_BRAND_NAME, GATEHOUSE_BRAND_LOGO_URL, GATEHOUSE_BRAND_COLOR; problems are pushed, never thrown. */
export function parseBranding(env: Record<string, string | undefined>, problems: string[]): PageBranding {
  const name = env.GATEHOUSE_BRAND_NAME?.trim() || DEFAULT_BRANDING.name;
  if (name.length > 64 || /[\u0000-\u001f\u007f]/u.test(name)) problems.push('GATEHOUSE_BRAND_NAME must be at most 64 characters, without control characters');
  const logo = env.GATEHOUSE_BRAND_LOGO_URL?.trim() || null;
  if (logo !== null && !isLogoUrl(logo)) {
    problems.push('GATEHOUSE_BRAND_LOGO_URL must be an https URL or a path on this server (/...), without quotes, spaces or a fragment');
  }
  const color = env.GATEHOUSE_BRAND_COLOR?.trim() || null;
  if (color !== null && !/^#[0-9a-fA-F]{6}$/.test(color)) problems.push('GATEHOUSE_BRAND_COLOR must be a colour as #rrggbb');
  return { name, logoUrl: logo, color: color?.toLowerCase() ?? null };
}

function isLogoUrl(value: string): boolean {
  if (value.length > 2048 || /[\s"'<>\\#]/.test(value)) return false;
  if (value.startsWith('/')) return !value.startsWith('//');
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * GATEHOUSE_SCOPE_DESCRIPTIONS: a JSON object `{"scope": "sentence shown on the consent page"}`, or the path of a
 * file holding one. Descriptions are plain text (escaped when shown), 1 to 200 characters.
 */
export function parseScopeDescriptions(value: string | undefined, problems: string[]): Record<string, string> {
  if (value === undefined || value.trim() === '') return {};
  const name = 'GATEHOUSE_SCOPE_DESCRIPTIONS';
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (error) {
      problems.push(`${name}: cannot read ${text}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      return {};
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push(`${name} must be a JSON object of scope to description (or the path of a file holding one)`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON object of scope to description`);
    return {};
  }
  const entries = Object.entries(parsed);
  if (entries.length > MAX_SCOPE_DESCRIPTIONS) problems.push(`${name}: at most ${MAX_SCOPE_DESCRIPTIONS} scopes`);
  const out: Record<string, string> = Object.create(null);
  for (const [scope, description] of entries) {
    if (typeof description !== 'string' || description.trim().length === 0 || description.length > 200 || /[\u0000-\u001f\u007f]/u.test(description)) {
      problems.push(`${name}: the description of ${JSON.stringify(scope.slice(0, 64))} must be 1 to 200 characters of text`);
      continue;
    }
    out[scope] = description.trim();
  }
  return out;
}
