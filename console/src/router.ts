// Hash routing: '#/search?q=shoes' -> { path: '/search', query: {q: 'shoes'} }.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '') || '/';
  const [p, qs] = h.split('?', 2);
  const query: Record<string, string> = {};
  new URLSearchParams(qs ?? '').forEach((v, k) => {
    query[k] = v;
  });
  return { path: p.startsWith('/') ? p : '/' + p, query };
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Builds '#/path?k=v'. */
export function href(path: string, query?: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

export function navigate(path: string, query?: Record<string, string | number | undefined>): void {
  location.hash = href(path, query).slice(1);
}

/** Replaces the query part of the current route without adding a history entry. */
export function replaceQuery(query: Record<string, string | number | undefined>): void {
  const { path } = parseHash(location.hash);
  history.replaceState(null, '', location.pathname + location.search + href(path, query));
}
