import { html } from './html.js';
import type { PageBranding } from '../../config/page-branding.js';
import { renderDocument } from './layout.js';

export interface ErrorPageInput {
  title: string;
  message: string;
  /** Shown so the person can quote it; the server log has the details under it. */
  requestId: string;
  branding?: PageBranding;
}

/** An error shown to a person (e.g. an unknown client or unregistered redirect URI, which is never redirected). */
export function renderErrorPage(input: ErrorPageInput): string {
  const body = html`<h1>${input.title}</h1>
<p role="alert">${input.message}</p>
<p class="muted">Request id: <code>${input.requestId}</code></p>`;
  return renderDocument(input.title, body, input.branding);
}
