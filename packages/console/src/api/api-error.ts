/** An error answer of the admin API, in its one shape: {error, error_description, request_id}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly requestId: string | null,
  ) {
    super(description);
    this.name = 'ApiError';
  }
}
