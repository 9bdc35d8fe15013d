// Log in with username, password and domain; back to the page that asked for it.
import { loadApis } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { navigate } from "../router.js";
import { login } from "../session.js";

function safeNext(query) {
  const next = query.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/";
}

export default function LoginView({ query }) {
  const [failure, setFailure] = useState("");
  const [busy, setBusy] = useState(false);
  const [showDomain, setShowDomain] = useState(false);
  const [username, setUsername] = useState("admin");
  const expired = query.get("expired") === "1";
  useEffect(() => { document.title = "Log in · Switchboard"; }, []);

  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFailure("");
    setBusy(true);
    try {
      await login({ username: String(form.get("username")).trim(), password: String(form.get("password")),
        domain: String(form.get("domain") || "").trim() });
      await loadApis();
      navigate(safeNext(query), { replace: true });
    } catch (error) {
      setBusy(false);
      setFailure(error.message);
    }
  };

  return html`
    <main class="login-page" id="main">
      <div class="login-box">
        <div class="login-brand"><img src="/ui/static/favicon.svg" alt="" width="40" height="40" />
          <div><span class="login-name">Switchboard</span><span class="muted">Orchestrate anything</span></div></div>
        <form class="card form login-form" id="login-form" onSubmit=${submit} aria-labelledby="login-title">
          <h1 id="login-title">Log in</h1>
          ${expired && !failure && html`<div class="alert alert-info" role="status">Your session has ended. Log in again to go on.</div>`}
          ${failure && html`<div class="alert alert-error" role="alert" id="flash">${failure}</div>`}
          <div class="field">
            <label for="username">Username</label>
            <input id="username" name="username" autocomplete="username" required autocapitalize="none"
              spellcheck=${false} value=${username} onInput=${(event) => setUsername(event.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          ${showDomain ? html`
            <div class="field">
              <label for="domain">Domain</label>
              <input id="domain" name="domain" placeholder="/ (ROOT)" aria-describedby="domain-help" spellcheck=${false} />
              <p class="field-help" id="domain-help">The path of your domain, e.g. /customers/acme. Leave empty for ROOT.</p>
            </div>` : html`<button type="button" class="link domain-toggle" onClick=${() => setShowDomain(true)}>
              Log in to a domain other than ROOT</button>`}
          <button type="submit" class="primary block" disabled=${busy}>${busy ? "Logging in…" : "Log in"}</button>
        </form>
        <p class="login-hint muted">First time here? Log in as <b>admin</b> with the password
          <code>switchboard serve</code> showed at its first start (or wrote to <code>admin-credentials.txt</code>
          in its data directory), then deploy the <b>Demo microVM</b>.</p>
      </div>
    </main>`;
}
