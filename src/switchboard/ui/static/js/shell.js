// The frame around every page once logged in: the top bar (brand, deploy, notifications, the user), the
// navigation (only the pages this session's role may use), the page itself, confirmations and toasts.
import { can } from "./api.js";
import { ConfirmHost } from "./dialogs.js";
import { DateText } from "./format.js";
import { clearFinished, markAllRead, useNotifications } from "./jobs.js";
import { html, useEffect, useRef, useState } from "./lib.js";
import { ROUTES, SECTIONS } from "./routes.js";
import { useLocation } from "./router.js";
import { accountTypeName, logout, user } from "./session.js";

export function allowed(route) {
  return !route.requires || can(...route.requires);
}

function isCurrent(route, path) {
  if (route.path === "/") return path === "/";
  return path === route.path || ROUTES.some((other) => other.parent === route.path && new RegExp(
    `^${other.path.replace(/\{\w+\}/g, "[^/]+")}$`).test(path));
}

function Navigation({ path, open, onNavigate, onLogout }) {
  const entries = ROUTES.filter((route) => (route.section || route.nav) && allowed(route));
  const top = entries.filter((route) => !route.section);
  return html`
    <nav id="sidebar" class=${`sidebar ${open ? "open" : ""}`} aria-label="Main" onClick=${(event) => {
      if (event.target.closest("a")) onNavigate();
    }}>
      <ul class="nav-list">
        ${top.map((route) => html`<li><a href=${route.path} data-nav=${route.path}
          aria-current=${isCurrent(route, path) ? "page" : null}>${route.nav || route.title}</a></li>`)}
      </ul>
      ${SECTIONS.map((section) => {
        const links = entries.filter((route) => route.section === section);
        if (!links.length) return null;
        return html`<div class="nav-section">
          <h2 class="nav-heading" id=${`nav-${section}`}>${section}</h2>
          <ul class="nav-list" aria-labelledby=${`nav-${section}`}>
            ${links.map((route) => html`<li><a href=${route.path} data-nav=${route.path}
              aria-current=${isCurrent(route, path) ? "page" : null}>${route.nav || route.title}</a></li>`)}
          </ul></div>`;
      })}
      <div class="nav-section phone-only">
        <h2 class="nav-heading" id="nav-you">You</h2>
        <ul class="nav-list" aria-labelledby="nav-you">
          <li><a href="/profile" data-nav="/profile">Your profile</a></li>
          <li><button type="button" class="nav-button" id="logout-menu" onClick=${onLogout}>Log out</button></li>
        </ul>
      </div>
    </nav>`;
}

const STATE_TEXT = { running: "In progress", done: "Done", failed: "Failed" };

function NotificationList({ entries, onClose }) {
  return html`
    <div class="popover notifications" id="notifications" role="region" aria-label="Notifications">
      <div class="popover-head">
        <h2>Notifications</h2>
        <button type="button" class="link" onClick=${clearFinished}>Clear finished</button>
      </div>
      ${entries.length === 0 ? html`<p class="muted popover-empty">Nothing yet. What you start shows up here.</p>` : html`
        <ul class="note-list">
          ${entries.map((entry) => html`
            <li class=${`note note-${entry.state}`} key=${entry.key} data-state=${entry.state}>
              <span class="note-icon" aria-hidden="true">${entry.state === "running" ? "" : entry.state === "done" ? "✓" : "!"}</span>
              <div class="note-text">
                <div class="note-label">${entry.href ? html`<a href=${entry.href} onClick=${onClose}>${entry.label}</a>` : entry.label}</div>
                <div class="note-meta"><span class="note-state">${STATE_TEXT[entry.state]}</span>${" · "}<${DateText}
                  value=${entry.ended || entry.started} relative=${true} /></div>
                ${entry.message && html`<div class="note-message">${entry.message}</div>`}
              </div>
            </li>`)}
        </ul>`}
    </div>`;
}

function Notifications() {
  const entries = useNotifications();
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  const running = entries.filter((entry) => entry.state === "running").length;
  const unread = entries.filter((entry) => entry.unread && entry.state !== "running").length;
  useEffect(() => {
    if (!open) return undefined;
    markAllRead();
    const away = (event) => { if (box.current && !box.current.contains(event.target)) setOpen(false); };
    const escape = (event) => { if (event.key === "Escape") setOpen(false); };
    document.addEventListener("mousedown", away);
    document.addEventListener("keydown", escape);
    return () => { document.removeEventListener("mousedown", away); document.removeEventListener("keydown", escape); };
  }, [open, entries.length]);
  const summary = [running && `${running} running`, unread && `${unread} new`].filter(Boolean).join(", ");
  return html`
    <div class="popover-anchor" ref=${box}>
      <button type="button" class="topbar-button" id="notifications-button" aria-expanded=${open ? "true" : "false"}
        aria-controls="notifications" onClick=${() => setOpen(!open)}>
        <span aria-hidden="true" class=${running ? "spinner" : "bell"}></span>
        <span class="topbar-label">Notifications</span>
        ${summary && html`<span class="counter">${running || unread}<span class="visually-hidden">: ${summary}</span></span>`}
      </button>
      ${open && html`<${NotificationList} entries=${entries} onClose=${() => setOpen(false)} />`}
    </div>`;
}

/** Announces each operation's outcome: the latest one as a toast (dismissable), and to screen readers. */
function Toasts() {
  const entries = useNotifications();
  const seen = useRef(null);
  const [shown, setShown] = useState(null);
  useEffect(() => {
    const states = new Map(entries.map((entry) => [entry.key, entry.state]));
    if (seen.current) {
      const fresh = entries.find((entry) => entry.state !== "running" && seen.current.get(entry.key) !== entry.state);
      if (fresh) setShown(fresh);
    }
    seen.current = states;
  }, [entries]);
  useEffect(() => {
    if (!shown) return undefined;
    const timer = setTimeout(() => setShown(null), 5000);
    return () => clearTimeout(timer);
  }, [shown]);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${shown && html`<div class=${`toast toast-${shown.state}`} key=${shown.key}>
      <span><strong>${shown.label}</strong>: ${shown.state === "done" ? "done" : "failed"}${shown.message ? ` — ${shown.message}` : ""}</span>
      <button type="button" class="toast-close" aria-label="Dismiss" onClick=${() => setShown(null)}>×</button>
    </div>`}
  </div>`;
}

async function logOut() {
  await logout();
  window.location.assign("/login");
}

function UserMenu() {
  const who = user();
  const [busy, setBusy] = useState(false);
  const out = () => {
    setBusy(true);
    logOut();
  };
  return html`
    <div class="user-menu">
      <a href="/profile" class="who" title="Your profile">
        <span class="avatar" aria-hidden="true">${(who.username || "?").charAt(0).toUpperCase()}</span>
        <span class="who-text"><span id="whoami">${who.username || "you"}</span>
          <span class="who-role">${accountTypeName(who.type)}${who.account && who.account !== who.username ? ` · ${who.account}` : ""}</span></span>
      </a>
      <button type="button" id="logout" class="topbar-button wide-only" disabled=${busy} onClick=${out}>Log out</button>
    </div>`;
}

export function Shell({ children }) {
  const location = useLocation();
  const [menu, setMenu] = useState(false);
  useEffect(() => { setMenu(false); }, [location.path]);
  return html`
    <a class="skip-link" href="#main">Skip to the page</a>
    <header class="topbar">
      <button type="button" class="topbar-button menu-toggle" aria-expanded=${menu ? "true" : "false"}
        aria-controls="sidebar" onClick=${() => setMenu(!menu)}><span aria-hidden="true">☰</span>
        <span class="visually-hidden">Menu</span></button>
      <a class="brand" href="/"><img src="/ui/static/favicon.svg" alt="" width="26" height="26" /> Switchboard</a>
      <div class="topbar-right">
        <${Notifications} />
        <${UserMenu} />
      </div>
    </header>
    <div class="layout">
      <${Navigation} path=${location.path} open=${menu} onNavigate=${() => setMenu(false)} onLogout=${logOut} />
      <main id="main" tabIndex="-1">${children}</main>
    </div>
    <${ConfirmHost} />
    <${Toasts} />`;
}
