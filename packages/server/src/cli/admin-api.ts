/**
 * The small HTTP client the admin commands share: the server from --server / GATEHOUSE_URL, the admin key from
 * GATEHOUSE_ADMIN_KEY only (never a flag: flags land in shell history and in `ps`), JSON in and out, a timeout on
 * every call, and the server's error body turned into one ApiError.
 */

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:4000';
const TIMEOUT_MS = 30_000;

/** The server answered with an error: `{error, error_description}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${description} (${error}, HTTP ${status})`);
    this.name = 'ApiError';
  }
}

/** The server could not be reached (refused, unknown host, timed out). */
export class ConnectionError extends Error {
  constructor(url: string, cause: string) {
    super(`cannot reach ${url}: ${cause}`);
    this.name = 'ConnectionError';
  }
}

/** No admin key in the environment. */
export class MissingAdminKeyError extends Error {
  constructor() {
    super('set GATEHOUSE_ADMIN_KEY to an admin API key (it is read from the environment only)');
    this.name = 'MissingAdminKeyError';
  }
}

export type Query = Record<string, string | number | undefined>;

export interface AdminApi {
  /** The server's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** The parsed JSON body of a 2xx answer (undefined for 204). */
  call(method: string, path: string, options?: { body?: unknown; query?: Query }): Promise<any>;
}

export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return (flag?.trim() || env.GATEHOUSE_URL?.trim() || DEFAULT_SERVER_URL).replace(/\/+$/, '');
}

export function createAdminApi(baseUrl: string, adminKey: string | undefined): AdminApi {
  return {
    baseUrl,
    async call(method, path, { body, query } = {}) {
      if (!adminKey) throw new MissingAdminKeyError();
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
      const url = `${baseUrl}${path}${search.size ? `?${search}` : ''}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${adminKey}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (error) {
        throw new ConnectionError(baseUrl, describeFetchFailure(error));
      }
      const text = await response.text().catch(() => '');
      let parsed: any;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!response.ok) {
        const error = typeof parsed?.error === 'string' ? parsed.error : 'http_error';
        const description =
          typeof parsed?.error_description === 'string' ? parsed.error_description : response.statusText || 'the server answered an error';
        throw new ApiError(response.status, error, description);
      }
      if (response.status !== 204 && parsed === undefined) {
        throw new ConnectionError(baseUrl, `the answer to ${method} ${path} is not JSON (is this a Gatehouse server?)`);
      }
      return parsed;
    },
  };
}

function describeFetchFailure(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = err.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` (${cause.message})` : ''}`;
  return cause?.message ?? err.message ?? String(error);
}
