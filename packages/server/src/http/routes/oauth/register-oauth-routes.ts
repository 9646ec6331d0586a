import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { registerAuthorizeEndpoint } from './authorize.js';
import { registerAuthorizeConsent } from './authorize-consent.js';
import { registerAuthorizeLogin } from './authorize-login.js';
import { registerEndSessionEndpoint } from './end-session.js';
import { registerAccountPassword } from './account-password.js';
import { acceptFormBodies } from './form-body.js';
import { registerIntrospectionEndpoint } from './introspect.js';
import { registerMetadataEndpoints } from './metadata.js';
import { registerResourceMetadataEndpoint } from './resource-metadata.js';
import { registerRevocationEndpoint } from './revoke.js';
import { registerTokenEndpoint } from './token.js';
import { registerUserinfoEndpoint } from './userinfo.js';

/** The OAuth 2.0 / OpenID Connect endpoints, in their own context: form bodies in, RFC 6749 errors out. */
export function registerOAuthRoutes(app: App, services: Services): void {
  app.register(async (oauth) => {
    acceptFormBodies(oauth);
    registerMetadataEndpoints(oauth, services);
    registerResourceMetadataEndpoint(oauth, services);
    registerAuthorizeEndpoint(oauth, services);
    registerAuthorizeLogin(oauth, services);
    registerAuthorizeConsent(oauth, services);
    registerTokenEndpoint(oauth, services);
    registerRevocationEndpoint(oauth, services);
    registerIntrospectionEndpoint(oauth, services);
    registerUserinfoEndpoint(oauth, services);
    registerEndSessionEndpoint(oauth, services);
    registerAccountPassword(oauth, services);
  });
}
