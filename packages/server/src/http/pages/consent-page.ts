import type { PageBranding } from '../../config/page-branding.js';
import { CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { assertFormAction, hiddenInputs, renderDocument } from './layout.js';

export interface ConsentPageInput {
  action: string;
  hiddenFields: Record<string, string>;
  csrfToken: string;
  clientName: string;
  /** The scopes asked for, each with a sentence a person understands. */
  scopes: ReadonlyArray<{ name: string; description: string }>;
  /** Who is signed in. */
  userEmail: string;
  /**
   * A client described by a Client ID Metadata Document: the host its document was fetched from, the one thing
   * about its identity that is verified (anyone can publish a document that names itself anything).
   */
  publishedBy?: string | undefined;
  /** The redirect goes to this machine (loopback): any program on it could claim the application's name. */
  loopbackRedirect?: boolean;
  branding?: PageBranding;
}

/**
 * The consent page: what the application asks for, and two submit buttons named `decision` (allow / deny); a third,
 * after them and shown as a link, `decision=switch_account` ("Not you? Switch account"): it ends the session and
 * shows the login page for the same authorization request. A button, not a link: a GET that ends a session could
 * be triggered by any site; this one carries the consent form's CSRF token.
 */
export function renderConsentPage(input: ConsentPageInput): string {
  assertFormAction(input.action);
  const fields = { ...input.hiddenFields, [CSRF_FIELD]: input.csrfToken };
  const scopes =
    input.scopes.length > 0
      ? html`<ul class="scopes">
${input.scopes.map((s) => html`<li>${s.description} <code>${s.name}</code></li>\n`)}</ul>`
      : html`<p>It asks for no particular permissions.</p>`;
  const publisher =
    input.publishedBy !== undefined
      ? html`<p class="publisher">This application's identity was published by <strong>${input.publishedBy}</strong>. Allow it only if you trust ${input.publishedBy}.</p>
`
      : '';
  const loopback = input.loopbackRedirect
    ? html`<p class="warning">This application runs on your own computer: after you allow it, your account is handed to a program on this machine, and any program on it could claim this name. Allow it only if you just started it yourself.</p>
`
    : '';
  const body = html`<h1>Allow access?</h1>
<p><strong>${input.clientName}</strong> wants to access your account.</p>
${publisher}${loopback}<p class="muted">Signed in as ${input.userEmail}</p>
<p>It will be able to:</p>
${scopes}
<form method="post" action="${input.action}">
${hiddenInputs(fields)}<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
<p class="muted">Not ${input.userEmail}? <button type="submit" name="decision" value="switch_account" class="link">Switch account</button></p>
</form>`;
  return renderDocument(`Allow ${input.clientName} access?`, body, input.branding);
}
