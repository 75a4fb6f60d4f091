/** A tiny History API router: the app has two routes and needs no more. */
import { createSignal } from 'solid-js';

const [path, setPath] = createSignal(window.location.pathname);
window.addEventListener('popstate', () => setPath(window.location.pathname));

export const currentPath = path;

export function navigate(to: string): void {
  if (to === window.location.pathname) return;
  window.history.pushState(null, '', to);
  setPath(to);
}

/** The task id of a `/tasks/:id` path, or null. */
export function taskIdOf(pathname: string): string | null {
  const match = /^\/tasks\/([^/]+)$/.exec(pathname);
  return match ? decodeURIComponent(match[1]!) : null;
}

/** Click handler for in-app links: plain clicks navigate without a reload. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.pathname);
}
