import { useState } from 'preact/hooks';
import { beginSignIn } from '../auth/session';
import { ErrorMessage } from '../components/status';

/** Shown when no one is signed in: the console signs in through Gatehouse's own login page. */
export function SignInPage({ returnTo }: { returnTo: string }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <main class="sign-in" id="main">
      <h1>Gatehouse console</h1>
      <p>Sign in with a Gatehouse account that holds admin roles. The console acts with exactly the roles you hold.</p>
      <button type="button" class="primary" onClick={() => beginSignIn(returnTo).catch(setError)}>
        Sign in
      </button>
      {error !== null && <ErrorMessage error={error} />}
      <p class="hint">
        No admin account yet? Create the first one at <a href="setup">the setup page</a> with the root admin key.
      </p>
    </main>
  );
}
