/**
 * What one delivery attempt means. Only a 2xx is a delivery. 410 Gone means the receiver wants no more: the
 * endpoint is disabled. Everything else is a failure to retry, 3xx included (redirects are never followed: a
 * redirect could point anywhere, the SSRF guard's checks included).
 */
export type AttemptVerdict = 'delivered' | 'gone' | 'failed';

export function classifyResponse(statusCode: number | null): AttemptVerdict {
  if (statusCode === null) return 'failed';
  if (statusCode >= 200 && statusCode < 300) return 'delivered';
  if (statusCode === 410) return 'gone';
  return 'failed';
}

/** The error recorded for an attempt that got an answer other than 2xx. */
export function responseError(statusCode: number): string {
  if (statusCode >= 300 && statusCode < 400) return `redirect (HTTP ${statusCode}) not followed`;
  return `HTTP ${statusCode}`;
}
