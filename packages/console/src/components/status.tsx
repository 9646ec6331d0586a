import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/api-error';
import { SignInError } from '../auth/session';
import type { AsyncState } from './use-async';

/** An error in front of the user: the API's error_description and the request id to quote. */
export function ErrorMessage({ error }: { error: unknown }) {
  const description = error instanceof Error ? error.message : String(error);
  const requestId = error instanceof ApiError || error instanceof SignInError ? error.requestId : null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div class="error" role="alert">
      <p>
        {code && <strong class="error-code">{code}: </strong>}
        {description}
      </p>
      {requestId && (
        <p class="request-id">
          Request id <code>{requestId}</code>
        </p>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** The loading, error and ready states of one request. */
export function Async<T>({ state, what, children }: { state: AsyncState<T>; what: string; children: (value: T) => ComponentChildren }) {
  if (state.status === 'loading') return <Loading what={what} />;
  if (state.status === 'error') return <ErrorMessage error={state.error} />;
  return <>{children(state.value)}</>;
}
