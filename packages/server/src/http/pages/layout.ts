import { createHash } from 'node:crypto';
import { DEFAULT_BRANDING, type PageBranding } from '../../config/page-branding.js';
import { html, raw, type SafeHtml } from './html.js';

/**
 * The pages' only CSS, in one <style> element so the Content-Security-Policy can allow exactly it by hash
 * (no 'unsafe-inline', no style attributes anywhere).
 */
export const PAGE_CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;--accent:#0a5bd3;--accent-fg:#fff;--danger:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4493f8;--accent-fg:#0d1117;--danger:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:26rem;margin:1rem;padding:2rem;background:var(--card);border:1px solid var(--line);border-radius:12px}
h1{font-size:1.375rem;margin:0 0 .25rem}
p{margin:.5rem 0}
.muted{color:var(--muted);font-size:.9375rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password]{width:100%;padding:.625rem .75rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:8px}
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}
button{font:inherit;font-weight:600;padding:.625rem 1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border-color:var(--line)}
button.link{padding:0;border:0;background:none;color:var(--accent);font-weight:400;text-decoration:underline}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
.actions button{flex:1}
.error{color:var(--danger);border:1px solid var(--danger);border-radius:8px;padding:.5rem .75rem;margin:1rem 0}
ul.scopes{padding-left:1.25rem}
ul.scopes li{margin:.375rem 0}
code{font-size:.875rem;overflow-wrap:anywhere}
.brand{display:flex;align-items:center;gap:.5rem;margin:0 0 1rem;font-weight:600;color:var(--muted)}
.brand img{max-height:2.5rem;max-width:10rem}
.publisher{border:2px solid var(--accent);border-radius:8px;padding:.5rem .75rem;margin:1rem 0}
.publisher strong{font-size:1.125rem;overflow-wrap:anywhere}
.warning{color:var(--danger);border:1px solid var(--danger);border-radius:8px;padding:.5rem .75rem;margin:1rem 0;font-size:.9375rem}
`;

/**
 * The CSS of a page with this branding: PAGE_CSS, plus the accent colour when one is configured (in the same
 * <style> element, so the CSP still allows exactly one stylesheet by its hash).
 */
export function pageCss(branding: PageBranding = DEFAULT_BRANDING): string {
  // The colour is validated as #rrggbb at configuration: nothing else can reach the stylesheet.
  if (!branding.color || !/^#[0-9a-f]{6}$/.test(branding.color)) return PAGE_CSS;
  return `${PAGE_CSS}:root{--accent:${branding.color}}\n@media (prefers-color-scheme:dark){:root{--accent:${branding.color}}}\n`;
}

const cssHashes = new Map<string, string>();

/** `'sha256-...'` of the page CSS for this branding (computed once per colour). */
export function pageCssHash(branding: PageBranding = DEFAULT_BRANDING): string {
  const css = pageCss(branding);
  let hash = cssHashes.get(css);
  if (hash === undefined) {
    hash = `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
    if (cssHashes.size < 100) cssHashes.set(css, hash);
  }
  return hash;
}

/** A complete HTML document around `body`, with the brand's name (and logo) above it. */
export function renderDocument(title: string, body: SafeHtml, branding: PageBranding = DEFAULT_BRANDING): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${raw(pageCss(branding))}</style>
</head>
<body>
<main>
<header class="brand">${branding.logoUrl ? html`<img src="${branding.logoUrl}" alt="">` : ''}<span>${branding.name}</span></header>
${body}
</main>
</body>
</html>
`.markup;
}

/** Hidden inputs for the fields the form carries through (OAuth parameters, the CSRF token). */
export function hiddenInputs(fields: Record<string, string>): SafeHtml[] {
  return Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`);
}

/** Form actions are server paths or absolute http(s) URLs: never `javascript:` or another scheme. */
export function assertFormAction(action: string): void {
  if (!/^(\/(?!\/)|https?:\/\/)/i.test(action)) throw new TypeError('A form action must be a path or an http(s) URL');
}
