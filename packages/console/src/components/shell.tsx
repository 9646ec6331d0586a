import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { getMe } from '../api/me';
import { signOut } from '../auth/session';
import { Link } from './link';
import { useAsync } from './use-async';

export const NAVIGATION: ReadonlyArray<{ path: string; label: string }> = [
  { path: '/', label: 'Overview' },
  { path: '/keys', label: 'Keys' },
  { path: '/clients', label: 'OAuth clients' },
  { path: '/resources', label: 'Resources' },
  { path: '/users', label: 'Users' },
  { path: '/webhooks', label: 'Webhooks' },
  { path: '/audit', label: 'Audit log' },
  { path: '/security', label: 'Security' },
];

function section(path: string): string {
  return `/${path.split('/')[1] ?? ''}`;
}

/** The frame of every signed-in page: navigation, who is signed in, sign out. */
export function Shell({ path, children }: { path: string; children: ComponentChildren }) {
  const [me] = useAsync(getMe, []);
  const [menuOpen, setMenuOpen] = useState(false);
  const who = me.status === 'ready' ? (me.value.email ?? me.value.name ?? me.value.id) : null;
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Gatehouse</span>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="primary-navigation"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <div class="whoami">
          {who && (
            <span data-testid="whoami" title={me.status === 'ready' ? me.value.scopes.join(' ') : undefined}>
              {who}
              {me.status === 'ready' && me.value.tenantId && <span class="badge">tenant {me.value.tenantId}</span>}
            </span>
          )}
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="primary-navigation" class={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Console">
        <ul>
          {NAVIGATION.map((item) => (
            <li key={item.path}>
              <Link to={item.path} aria-current={section(path) === item.path ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
