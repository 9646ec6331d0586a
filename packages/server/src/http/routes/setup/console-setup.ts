import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUnrestrictedAdmin } from '../../../core/authorization/credential-policy.js';
import { GatehouseError } from '../../../core/errors.js';
import { param } from '../../../core/oauth/request-params.js';
import { issuerPath } from '../../../config/issuer-path.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { CSRF_FIELD } from '../../pages/csrf.js';
import { pageHeaders } from '../../pages/page-headers.js';
import { renderSetupDonePage, renderSetupPage } from '../../pages/setup-page.js';
import { sendErrorPage } from '../oauth/authorization-flow.js';
import { formParams } from '../oauth/form-body.js';

export const SETUP_PATH = '/console/setup';
const CSRF_PURPOSE = 'setup';
const NOT_ROOT = 'That is not a root admin key (a key holding admin, bound to no tenant).';

/**
 * The first run: GET shows the form while no admin user exists (afterwards: "setup is done"); POST, with the CSRF
 * token, a root admin key, an email and a password, creates the first admin user once (UserService
 * .createFirstAdmin decides atomically). A refused key is audited like any failed admin authentication; the key
 * and the password are never rendered back.
 */
export function registerConsoleSetup(app: FastifyInstance, services: Services): void {
  const base = () => issuerPath(services.oauth.issuer());
  const branding = () => services.config.branding;

  const showForm = (request: FastifyRequest, reply: FastifyReply, status: number, fields: { email?: string; name?: string; error?: string } = {}) => {
    const csrf = services.csrf.issueCsrf(services.csrf.readCookie(request.headers.cookie), CSRF_PURPOSE);
    if (csrf.setCookie) reply.header('set-cookie', csrf.setCookie);
    const page = renderSetupPage({ action: base() + SETUP_PATH, csrfToken: csrf.token, ...fields, branding: branding() });
    return reply.status(status).headers(pageHeaders({ branding: branding() })).send(page);
  };
  const showDone = (reply: FastifyReply, created: boolean) =>
    reply
      .status(created ? 201 : 200)
      .headers(pageHeaders({ branding: branding() }))
      .send(renderSetupDonePage({ consoleUrl: `${base()}/console/`, created, branding: branding() }));

  app.get(SETUP_PATH, { schema: { tags: ['console'], summary: 'First-run page: create the first admin user with the root admin key' } }, async (request, reply) =>
    (await services.users.firstRunDone()) ? showDone(reply, false) : showForm(request, reply, 200),
  );

  app.post(
    SETUP_PATH,
    { schema: { tags: ['console'], summary: 'First-run form submission (fields admin_key, email, name, password, csrf_token)' } },
    async (request, reply) => {
      const form = formParams(request);
      if (!services.csrf.checkCsrf(services.csrf.readCookie(request.headers.cookie), param(form, CSRF_FIELD), CSRF_PURPOSE)) {
        return sendErrorPage(services, request, reply, 403, 'This form has expired', 'Open the setup page again.');
      }
      if (await services.users.firstRunDone()) return showDone(reply, false);
      const email = (param(form, 'email') ?? '').slice(0, 320);
      const name = (param(form, 'name') ?? '').trim().slice(0, 128);
      const keep = { email, name };
      const origin = requestOrigin(request);
      const verification = await services.apiKeys.authenticate((param(form, 'admin_key') ?? '').trim());
      if (!verification.valid || !isUnrestrictedAdmin(verification.key)) {
        const key = verification.key;
        services.apiKeys.record(
          services.clock.now(),
          {
            type: 'admin.authentication',
            outcome: 'failure',
            reason: verification.valid ? 'NOT_ROOT_KEY' : verification.code,
            keyId: key?.id ?? null,
            keyPrefix: key?.displayPrefix ?? (verification.valid ? null : verification.displayPrefix),
          },
          origin,
        );
        return showForm(request, reply, 401, { ...keep, error: NOT_ROOT });
      }
      const key = verification.key;
      const actor = { keyId: key.id, keyPrefix: key.displayPrefix, userId: null, tenantId: key.tenantId, scopes: key.scopes, origin };
      try {
        const created = await services.users.createFirstAdmin(actor, { email, password: param(form, 'password') ?? '', ...(name ? { name } : {}) });
        return showDone(reply, created !== 'setup_done');
      } catch (error) {
        if (error instanceof GatehouseError && (error.code === 'invalid_request' || error.code === 'conflict')) {
          return showForm(request, reply, error.code === 'conflict' ? 409 : 400, { ...keep, error: error.message });
        }
        throw error;
      }
    },
  );
}
