// Client-side navigation: links within the UI change the page without a reload (jobs keep running in the
// notification list), the back and forward buttons work, and list state (search, filters, page, sort)
// lives in the query string so that a list can be linked to and comes back as it was.
import { useEffect, useState } from "./lib.js";
import { match } from "./routes.js";

const listeners = new Set();
let focusWanted = false;

/** True once after a navigation to another page: the new page's heading takes the focus then. */
export function takeFocusRequest() {
  const wanted = focusWanted;
  focusWanted = false;
  return wanted;
}

function current() {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

function changed() {
  const location = current();
  for (const listener of listeners) listener(location);
}

/** Go to `to` (a path with an optional query string) inside the UI. */
export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, window.location.origin);
  if (!match(url.pathname)) {
    window.location.assign(url.href); // not a page of ours: let the server answer (404 page)
    return;
  }
  focusWanted = url.pathname !== window.location.pathname;
  if (replace) window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  else window.history.pushState(null, "", url.pathname + url.search + url.hash);
  changed();
}

/** Change some query parameters of the current page (null or "" removes one); replaces the history entry. */
export function setQuery(updates, { replace = true } = {}) {
  const query = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(updates)) {
    if (value === null || value === undefined || value === "") query.delete(key);
    else query.set(key, String(value));
  }
  const search = query.toString();
  navigate(window.location.pathname + (search ? `?${search}` : ""), { replace });
}

/** The current path and query, re-rendering the caller on every navigation. */
export function useLocation() {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    listeners.add(setLocation);
    return () => listeners.delete(setLocation);
  }, []);
  return location;
}

/** Follow same-origin links to UI pages without reloading (modifier keys and targets keep their meaning). */
export function interceptLinks() {
  window.addEventListener("popstate", changed);
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
        event.altKey) return;
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || !match(url.pathname)) return;
    if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
