import { OAuthError } from '../errors.js';

/** Parameters of an OAuth request, each with every value it was given. */
export type RequestParams = ReadonlyMap<string, readonly string[]>;

/** Parameters that may legitimately be given several times (RFC 8707 section 2). */
const REPEATABLE = new Set(['resource']);

/** Parses a query string or form body; refuses a repeated parameter (RFC 6749 section 3.1). */
export function parseRequestParams(text: string): RequestParams | OAuthError {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    const values = params.get(name);
    if (values === undefined) params.set(name, [value]);
    else if (REPEATABLE.has(name)) values.push(value);
    else return new OAuthError('invalid_request', /^[a-z_]{1,40}$/.test(name) ? `The ${name} parameter is repeated.` : 'A parameter is repeated.');
  }
  return params;
}

/** The value of a parameter; undefined when absent. An empty value counts as absent (RFC 6749 section 3.1). */
export function param(params: RequestParams, name: string): string | undefined {
  const value = params.get(name)?.[0];
  return value === '' ? undefined : value;
}

export function allParams(params: RequestParams, name: string): string[] {
  return (params.get(name) ?? []).filter((value) => value !== '');
}

