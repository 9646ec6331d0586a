import { useEffect, useState } from 'preact/hooks';
import { consoleHref, consolePath } from './base-url';

/** A small history router: console paths ('/keys/key_1') map to full paths under the base. */
const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const href = consoleHref(path);
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

export interface Route {
  path: string;
  search: URLSearchParams;
}

function current(): Route {
  return { path: consolePath(), search: new URLSearchParams(window.location.search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const listener = () => setRoute(current());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return route;
}

/** Matches '/keys/:id' against '/keys/key_1' -> { id: 'key_1' }, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const wanted = pattern.split('/');
  const given = path.split('/');
  if (wanted.length !== given.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < wanted.length; i++) {
    const part = wanted[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(given[i]!);
    else if (part !== given[i]) return null;
  }
  return params;
}
