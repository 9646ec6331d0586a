/** Gatehouse could not be asked (network error, timeout, 5xx, unexpected answer): a failure, never a denial. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly code = 'unavailable';
}
