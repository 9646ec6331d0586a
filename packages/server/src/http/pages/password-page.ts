import type { PageBranding } from '../../config/page-branding.js';
import { CSRF_FIELD } from './csrf.js';
import { html } from './html.js';
import { assertFormAction, hiddenInputs, renderDocument } from './layout.js';

export interface PasswordPageInput {
  action: string;
  csrfToken: string;
  /** Who is signed in. */
  userEmail: string;
  /** Shown above the form (a wrong current password, a refused new one). */
  error?: string;
  /** The password was just changed. */
  done?: boolean;
  branding?: PageBranding;
}

/** A signed-in user changes their password: the current one, the new one; CSRF token hidden. No JavaScript. */
export function renderPasswordPage(input: PasswordPageInput): string {
  assertFormAction(input.action);
  const body = html`<h1>Change password</h1>
<p class="muted">Signed in as ${input.userEmail}</p>
${input.done ? html`<p role="status" id="password-done">Your password was changed. Your other sessions were signed out.</p>` : ''}
${input.error ? html`<p class="error" role="alert" id="password-error">${input.error}</p>` : ''}
<form method="post" action="${input.action}" novalidate>
${hiddenInputs({ [CSRF_FIELD]: input.csrfToken })}<input type="email" name="username" autocomplete="username" value="${input.userEmail}" hidden readonly>
<label for="current_password">Current password</label>
<input id="current_password" name="current_password" type="password" autocomplete="current-password" required>
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required>
<div class="actions"><button type="submit">Change password</button></div>
</form>`;
  return renderDocument('Change password', body, input.branding);
}
