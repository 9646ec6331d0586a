/**
 * Where things are, from the page's <base href> (the server writes `<issuer path>/console/` into it):
 * the console's own routes are below `consoleBase`, the API and the OAuth endpoints below `issuerBase`.
 */
export const consoleBase = new URL('.', document.baseURI);
export const issuerBase = new URL('..', consoleBase);

/** An absolute URL on the Gatehouse server, e.g. apiUrl('/v1/keys'). */
export function serverUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), issuerBase).toString();
}

/** The console path of the current location, without the base: '/keys/key_1' for '<base>/keys/key_1'. */
export function consolePath(location: Location = window.location): string {
  const path = location.pathname.startsWith(consoleBase.pathname) ? location.pathname.slice(consoleBase.pathname.length) : '';
  return `/${path}`.replace(/\/+$/, '') || '/';
}

/** The full path of a console route, for links and history entries. */
export function consoleHref(path: string): string {
  return consoleBase.pathname + path.replace(/^\//, '');
}

/** The OAuth client the console signs in as, registered by the server at startup. */
export const CONSOLE_CLIENT_ID = 'cli_console';
export const redirectUri = (): string => new URL('callback', consoleBase).toString();
export const postLogoutRedirectUri = (): string => consoleBase.toString();
