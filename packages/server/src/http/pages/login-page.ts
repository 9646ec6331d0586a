import type { PageBranding } from '../../config/page-branding.js';
import { CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { assertFormAction, hiddenInputs, renderDocument } from './layout.js';

export interface LoginPageInput {
  /** Where the form posts (a path on this server). */
  action: string;
  /** Carried through the form unchanged (the authorization request's parameters). */
  hiddenFields: Record<string, string>;
  csrfToken: string;
  /** The application asking; shown as text. */
  clientName: string;
  /** Pre-fills the email field (after a failed attempt). */
  email?: string;
  /** Shown above the form (e.g. "Wrong email or password."). */
  error?: string;
  branding?: PageBranding;
}

/** The sign-in page: a plain POST form (no JavaScript), fields `email` and `password`, CSRF token hidden. */
export function renderLoginPage(input: LoginPageInput): string {
  assertFormAction(input.action);
  const fields = { ...input.hiddenFields, [CSRF_FIELD]: input.csrfToken };
  const body = html`<h1>Sign in</h1>
<p class="muted">to continue to <strong>${input.clientName}</strong></p>
${input.error ? html`<p class="error" role="alert" id="login-error">${input.error}</p>` : ''}
<form method="post" action="${input.action}" novalidate>
${hiddenInputs(fields)}<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${input.email ?? ''}"${input.error ? html` aria-describedby="login-error"` : ''}${input.email ? '' : html` autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${input.email ? html` autofocus` : ''}>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`;
  return renderDocument(`Sign in to ${input.clientName}`, body, input.branding);
}
