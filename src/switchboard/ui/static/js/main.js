// The UI's entry point: checks the session, learns what it may do (listApis), then renders the page for
// the current path inside the shell, loading each page's view module the first time it is shown.
import { loadApis, onSessionExpired } from "./api.js";
import { html, render, useEffect, useErrorBoundary, useState } from "./lib.js";
import { Broken, Forbidden, Missing } from "./page.js";
import { interceptLinks, useLocation } from "./router.js";
import { match } from "./routes.js";
import { hasSession, loginUrl } from "./session.js";
import { Shell, allowed } from "./shell.js";

const loaded = new Map();

function here() {
  return window.location.pathname + window.location.search;
}

/** Loads a route's view module and renders it; a failure shows the error page, not a blank one. */
function RouteView({ route, params, query }) {
  const [view, setView] = useState(() => loaded.get(route.path) || null);
  const [failure, setFailure] = useState(null);
  const [error, reset] = useErrorBoundary();
  useEffect(() => {
    let live = true;
    setFailure(null);
    if (loaded.has(route.path)) {
      setView(() => loaded.get(route.path));
      return undefined;
    }
    setView(null);
    route.view().then(
      (module) => {
        loaded.set(route.path, module.default);
        if (live) setView(() => module.default);
      },
      (problem) => { if (live) setFailure(problem); },
    );
    return () => { live = false; };
  }, [route.path]);
  if (error) return html`<${Broken} error=${error} onRetry=${reset} />`;
  if (failure) return html`<${Broken} error=${failure} onRetry=${() => window.location.reload()} />`;
  if (!view) return html`<p class="loading page-loading" role="status">Loading…</p>`;
  const View = view;
  return html`<${View} params=${params} query=${query} key=${route.path + JSON.stringify(params)} />`;
}

function App() {
  const location = useLocation();
  const found = match(location.path);
  if (found && found.route.bare) return html`<${RouteView} route=${found.route} params=${found.params} query=${location.query} />`;
  if (!hasSession()) {
    window.location.replace(loginUrl(here()));
    return null;
  }
  let content;
  if (!found) content = html`<${Missing} />`;
  else if (!allowed(found.route)) content = html`<${Forbidden} title=${found.route.title} />`;
  else content = html`<${RouteView} route=${found.route} params=${found.params} query=${location.query} />`;
  return html`<${Shell}>${content}</${Shell}>`;
}

async function start() {
  interceptLinks();
  onSessionExpired(() => window.location.assign(loginUrl(here(), { expired: true })));
  const root = document.getElementById("app");
  const found = match(window.location.pathname);
  if (!(found && found.route.bare)) {
    if (!hasSession()) {
      window.location.replace(loginUrl(here()));
      return;
    }
    try {
      await loadApis();
    } catch (error) {
      if (error.status === 401) return; // onSessionExpired sends the browser to the login page
      root.className = "";
      render(html`<main class="standalone"><${Broken} error=${error} onRetry=${() => window.location.reload()} /></main>`, root);
      return;
    }
  }
  root.className = "";
  root.replaceChildren();
  render(html`<${App} />`, root);
}

start();
