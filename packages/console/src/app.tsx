import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { isSignedIn, onSessionChange } from './auth/session';
import { Shell } from './components/shell';
import { AuditPage } from './pages/audit-page';
import { CallbackPage } from './pages/callback-page';
import { ClientPage } from './pages/client-page';
import { ClientsPage } from './pages/clients-page';
import { KeyPage } from './pages/key-page';
import { KeysPage } from './pages/keys-page';
import { NotFoundPage } from './pages/not-found-page';
import { OverviewPage } from './pages/overview-page';
import { ResourcesPage } from './pages/resources-page';
import { SecurityPage } from './pages/security-page';
import { SignInPage } from './pages/sign-in-page';
import { UserPage } from './pages/user-page';
import { UsersPage } from './pages/users-page';
import { WebhookPage } from './pages/webhook-page';
import { WebhooksPage } from './pages/webhooks-page';
import { match, useRoute } from './router';

function page(path: string) {
  let params: Record<string, string> | null;
  if (path === '/') return <OverviewPage />;
  if (path === '/keys') return <KeysPage />;
  if ((params = match('/keys/:id', path))) return <KeyPage id={params.id!} />;
  if (path === '/clients') return <ClientsPage />;
  if ((params = match('/clients/:id', path))) return <ClientPage id={params.id!} />;
  if (path === '/resources') return <ResourcesPage />;
  if (path === '/users') return <UsersPage />;
  if ((params = match('/users/:id', path))) return <UserPage id={params.id!} />;
  if (path === '/webhooks') return <WebhooksPage />;
  if ((params = match('/webhooks/:id', path))) return <WebhookPage id={params.id!} />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/security') return <SecurityPage />;
  return <NotFoundPage />;
}

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(isSignedIn());
  useEffect(() => onSessionChange(() => setSignedIn(isSignedIn())), []);
  useEffect(() => {
    const heading = document.querySelector('main h1');
    document.title = heading?.textContent ? `${heading.textContent} · Gatehouse console` : 'Gatehouse console';
  });
  if (route.path === '/callback') return <CallbackPage />;
  if (!signedIn) return <SignInPage returnTo={route.path + window.location.search} />;
  return (
    <Shell path={route.path}>
      <Fragment key={route.path}>{page(route.path)}</Fragment>
    </Shell>
  );
}
