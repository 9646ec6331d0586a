import type { PageBranding } from '../../config/page-branding.js';
import { CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { assertFormAction, hiddenInputs, renderDocument } from './layout.js';

export interface LogoutConfirmPageInput {
  /** Where the form posts (the end-session endpoint). */
  action: string;
  hiddenFields: Record<string, string>;
  csrfToken: string;
  /** The application that asked, if known; shown as text. */
  clientName: string | null;
  branding?: PageBranding;
}

/** Asks the signed-in person to confirm signing out (a logout request that does not prove who asked for it). */
export function renderLogoutConfirmPage(input: LogoutConfirmPageInput): string {
  assertFormAction(input.action);
  const fields = { ...input.hiddenFields, [CSRF_FIELD]: input.csrfToken };
  const body = html`<h1>Sign out?</h1>
${input.clientName ? html`<p class="muted"><strong>${input.clientName}</strong> asks to sign you out.</p>` : ''}
<form method="post" action="${input.action}">
${hiddenInputs(fields)}<div class="actions"><button type="submit" name="confirm" value="yes">Sign out</button></div>
</form>`;
  return renderDocument('Sign out', body, input.branding);
}

/** Shown after signing out when there is no application to return to. */
export function renderSignedOutPage(branding?: PageBranding): string {
  return renderDocument('Signed out', html`<h1>Signed out</h1>
<p>You are signed out. You can close this window.</p>`, branding);
}
