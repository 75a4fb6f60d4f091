/** A tiny History API router: a handful of routes, query parameters for filters. */
import { batch, createSignal } from 'solid-js';

const [path, setPath] = createSignal(window.location.pathname);
const [search, setSearch] = createSignal(window.location.search);
/** Path and query change together: a page must never mount with the old page's query. */
function setLocation(pathname: string, query: string): void {
  batch(() => {
    setPath(pathname);
    setSearch(query);
  });
}
window.addEventListener('popstate', () => setLocation(window.location.pathname, window.location.search));

export const currentPath = path;
export const currentSearch = search;

/** Goes to `to` (a path with an optional query); `replace` keeps the history entry. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.origin);
  if (url.pathname === window.location.pathname && url.search === window.location.search) return;
  window.history[options.replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search);
  setLocation(url.pathname, url.search);
}

/** The task id of a `/tasks/:id` path, or null. */
export function taskIdOf(pathname: string): string | null {
  const match = /^\/tasks\/([^/]+)$/.exec(pathname);
  return match ? decodeURIComponent(match[1]!) : null;
}

/** Click handler for in-app links: plain clicks navigate without a reload. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement | SVGAElement;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const href = anchor instanceof HTMLAnchorElement ? anchor.href : anchor.href.baseVal;
  event.preventDefault();
  navigate(href);
}
