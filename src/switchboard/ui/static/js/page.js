// The building blocks every view page uses: the page frame (title, breadcrumbs, actions), tabs, a details
// list, and the pages shown when something is missing, not allowed or broken.
import { html, useEffect, useRef } from "./lib.js";
import { setQuery, takeFocusRequest } from "./router.js";

/** A page: its heading (focused after navigation, so screen readers announce the new page), breadcrumbs
 * back to its list, the page's actions, and the content. */
export function Page({ title, crumbs = [], actions, subtitle, children, className = "" }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${typeof title === "string" ? title : "Switchboard"} · Switchboard`;
  }, [title]);
  useEffect(() => {
    if (takeFocusRequest() && heading.current) heading.current.focus();
  }, []);
  return html`
    <article class=${`page ${className}`.trim()}>
      <header class="page-head">
        <div class="page-title">
          ${crumbs.length > 0 && html`<nav class="crumbs" aria-label="Breadcrumb"><ol>
            ${crumbs.map(([text, href]) => html`<li><a href=${href}>${text}</a></li>`)}
            <li aria-current="page">${title}</li></ol></nav>`}
          <h1 ref=${heading} tabIndex="-1" id="page-title">${title}</h1>
          ${subtitle && html`<div class="page-subtitle">${subtitle}</div>`}
        </div>
        ${actions && html`<div class="page-actions">${actions}</div>`}
      </header>
      ${children}
    </article>`;
}

/** Tabs (WAI-ARIA tabs: arrow keys move between them). The current tab is the query's `tab`. */
export function Tabs({ tabs, current, label, param = "tab" }) {
  const shown = tabs.filter(Boolean);
  const active = shown.find((tab) => tab.id === current) || shown[0];
  const select = (tab) => setQuery({ [param]: tab.id === shown[0].id ? "" : tab.id }, { replace: false });
  const keys = (event, index) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step && event.key !== "Home" && event.key !== "End") return;
    event.preventDefault();
    const next = event.key === "Home" ? 0 : event.key === "End" ? shown.length - 1 : (index + step + shown.length) % shown.length;
    select(shown[next]);
    const buttons = event.currentTarget.parentElement.querySelectorAll("[role=tab]");
    if (buttons[next]) buttons[next].focus();
  };
  return html`
    <div class="tabs">
      <div role="tablist" aria-label=${label} class="tablist">
        ${shown.map((tab, index) => html`
          <button type="button" role="tab" id=${`tab-${tab.id}`} aria-controls=${`panel-${tab.id}`}
            aria-selected=${tab === active ? "true" : "false"} tabIndex=${tab === active ? 0 : -1}
            onClick=${() => select(tab)} onKeyDown=${(event) => keys(event, index)}>
            ${tab.label}${tab.count !== undefined && html`<span class="tab-count">${tab.count}</span>`}
          </button>`)}
      </div>
      <div role="tabpanel" id=${`panel-${active.id}`} aria-labelledby=${`tab-${active.id}`} class="tabpanel">
        ${active.render()}
      </div>
    </div>`;
}

/** Label/value pairs; rows whose value is empty are shown as a dash. */
export function Details({ rows, className = "" }) {
  return html`<dl class=${`details ${className}`.trim()}>
    ${rows.filter(Boolean).map(([term, value]) => html`
      <div class="detail" key=${term}><dt>${term}</dt>
        <dd>${value === undefined || value === null || value === "" ? html`<span class="muted">—</span>` : value}</dd></div>`)}
  </dl>`;
}

/** A key/value map as a small table (extension details and the like); nothing shown when empty. */
export function MapTable({ map, empty = "None", secret = false }) {
  const entries = Object.entries(map || {});
  if (!entries.length) return html`<span class="muted">${empty}</span>`;
  return html`<table class="kv"><tbody>
    ${entries.map(([key, value]) => html`<tr><th scope="row">${key}</th>
      <td>${secret && /pass|secret|token|key$/i.test(key) ? "••••••" : String(value)}</td></tr>`)}
  </tbody></table>`;
}

export function Card({ title, children, actions, className = "" }) {
  return html`<section class=${`card ${className}`.trim()} aria-label=${typeof title === "string" ? title : null}>
    ${(title || actions) && html`<div class="card-head">${title && html`<h2>${title}</h2>`}
      ${actions && html`<div class="card-actions">${actions}</div>`}</div>`}
    ${children}
  </section>`;
}

/** The page for a path that exists but whose object does not (or is not the caller's to see). */
export function Missing({ what = "page", back = ["Dashboard", "/"] }) {
  return html`
    <${Page} title="Not found">
      <section class="card message-page" aria-live="polite">
        <p class="message-code">404</p>
        <h2>This ${what} does not exist</h2>
        <p>It may have been removed, or it belongs to an account you cannot see.</p>
        <p class="message-links"><a class="button primary" href=${back[1]}>Back to ${back[0].toLowerCase()}</a></p>
      </section>
    </${Page}>`;
}

/** The page a session sees when it opens a page its role may not use. */
export function Forbidden({ title }) {
  return html`
    <${Page} title=${title}>
      <section class="card message-page" data-forbidden="true">
        <p class="message-code">403</p>
        <h2>This page is for administrators</h2>
        <p>Your account cannot use ${title.toLowerCase()}. If you need it, ask your cloud administrator.</p>
        <p class="message-links"><a class="button primary" href="/">Go to the dashboard</a></p>
      </section>
    </${Page}>`;
}

/** What a broken view shows instead of a blank page. */
export function Broken({ error, onRetry }) {
  return html`
    <${Page} title="Something went wrong">
      <section class="card message-page" role="alert">
        <h2>This page could not be shown</h2>
        <p>${error && error.message ? error.message : String(error)}</p>
        <p class="message-links">
          ${onRetry && html`<button type="button" class="primary" onClick=${onRetry}>Try again</button>`}
          <a class="button" href="/">Go to the dashboard</a></p>
      </section>
    </${Page}>`;
}

/** An inline notice. */
export function Alert({ kind = "info", children, role }) {
  return html`<div class=${`alert alert-${kind}`} role=${role || (kind === "error" ? "alert" : null)}>${children}</div>`;
}
