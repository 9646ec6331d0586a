import type { PageBranding } from '../../config/page-branding.js';
import { CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { assertFormAction, hiddenInputs, renderDocument } from './layout.js';

export interface SetupPageInput {
  /** Where the form posts (this page's own path). */
  action: string;
  csrfToken: string;
  /** Pre-fills the email and name fields after a refused attempt; the key and the password are never shown again. */
  email?: string;
  name?: string;
  error?: string;
  branding?: PageBranding;
}

/**
 * The first-run page: while no admin user exists, whoever holds the root admin key creates the first admin user
 * (`admin`, every tenant). A plain POST form, no JavaScript; the key is typed or pasted, never put in a URL.
 */
export function renderSetupPage(input: SetupPageInput): string {
  assertFormAction(input.action);
  const describedBy = input.error ? html` aria-describedby="setup-error"` : '';
  const body = html`<h1>Set up Gatehouse</h1>
<p class="muted">Create the first administrator of the console. Paste the root admin key Gatehouse printed on its first start (or GATEHOUSE_BOOTSTRAP_ADMIN_KEY).</p>
${input.error ? html`<p class="error" role="alert" id="setup-error">${input.error}</p>` : ''}
<form method="post" action="${input.action}" novalidate>
${hiddenInputs({ [CSRF_FIELD]: input.csrfToken })}<label for="admin_key">Root admin key</label>
<input id="admin_key" name="admin_key" type="password" autocomplete="off" autocapitalize="none" spellcheck="false" required${describedBy} autofocus>
<label for="email">Administrator's email</label>
<input id="email" name="email" type="email" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${input.email ?? ''}">
<label for="name">Name (optional)</label>
<input id="name" name="name" type="text" autocomplete="name" value="${input.name ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
<div class="actions"><button type="submit">Create administrator</button></div>
</form>`;
  return renderDocument('Set up Gatehouse', body, input.branding);
}

/** After the first run: there is an admin user already; the page offers nothing but the way to the console. */
export function renderSetupDonePage(input: { consoleUrl: string; created: boolean; branding?: PageBranding }): string {
  const body = html`<h1>${input.created ? 'Administrator created' : 'Setup is done'}</h1>
<p>${input.created ? 'The first administrator can now sign in to the console.' : 'Gatehouse already has an administrator. Further administrators are added from the console or the admin API.'}</p>
<p><a href="${input.consoleUrl}">Go to the console</a></p>`;
  return renderDocument(input.created ? 'Administrator created' : 'Setup is done', body, input.branding);
}
