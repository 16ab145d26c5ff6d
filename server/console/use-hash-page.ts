/**
 * Which page shows, kept in the address's fragment (#/kiosks): a reload stays on the page, and
 * the fragment works under any path a reverse proxy serves the console from.
 */
import { useCallback, useSyncExternalStore } from 'react';

/** The console's pages. */
export const pageNames = ['calls', 'kiosks', 'passes', 'admin'] as const;
export type PageName = (typeof pageNames)[number];

/** The page a fragment names; the calls page for anything else. */
export function pageFromHash(hash: string): PageName {
  const name = hash.replace(/^#\/?/, '');
  return (pageNames as readonly string[]).includes(name) ? (name as PageName) : 'calls';
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current page and how to go to another. */
export function useHashPage(): [PageName, (page: PageName) => void] {
  const page = useSyncExternalStore(subscribe, () => pageFromHash(location.hash));
  const goTo = useCallback((next: PageName) => {
    location.hash = `#/${next}`;
  }, []);

  return [page, goTo];
}
