import { useEffect, useState } from 'preact/hooks';
import { completeSignIn } from '../auth/session';
import { ErrorMessage, Loading } from '../components/status';
import { Link } from '../components/link';
import { navigate } from '../router';

/** /console/callback: redeems the authorization code, then goes where the sign-in started. */
export function CallbackPage() {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const search = window.location.search;
    // The code leaves the address bar (and history) before it is redeemed.
    history.replaceState(null, '', window.location.pathname);
    completeSignIn(search).then((returnTo) => navigate(returnTo === '/callback' ? '/' : returnTo, { replace: true }), setError);
  }, []);
  return (
    <main class="sign-in" id="main">
      <h1>Signing in</h1>
      {error === null ? (
        <Loading what="your session" />
      ) : (
        <>
          <ErrorMessage error={error} />
          <Link to="/">Back to the console</Link>
        </>
      )}
    </main>
  );
}
