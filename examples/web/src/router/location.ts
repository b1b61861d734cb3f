// A small client-side router over the History API: the app's few routes do
// not need a library. Paths here are the browser's, not the API's.
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  window.addEventListener("popstate", fn);
  return () => {
    listeners.delete(fn);
    window.removeEventListener("popstate", fn);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

/** navigate goes to a path in the app without a page load. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  for (const fn of [...listeners]) fn();
}

/** useLocation is the current path and query, re-rendering on every change. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const loc = useSyncExternalStore(subscribe, snapshot, snapshot);
  const i = loc.indexOf("?");
  return {
    pathname: i < 0 ? loc : loc.slice(0, i),
    search: new URLSearchParams(i < 0 ? "" : loc.slice(i + 1)),
  };
}
