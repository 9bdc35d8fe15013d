// Users of an account, with what an administrator may do to them; shared by the account page.
import { call, can } from "../api.js";
import { confirm, Dialog } from "../dialogs.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Alert } from "../page.js";
import { RowButton } from "../table.js";

export function userFields(command) {
  return fromApi(command, [
    { name: "username", label: "Username", autocomplete: "off", help: null },
    { name: "password", label: "Password", type: "password", help: command === "updateUser" ? "Left empty: unchanged." : null },
    command === "updateUser" && { name: "currentpassword", label: "Current password", type: "password", help: "Needed to change your own password." },
    { name: "email", label: "E-mail", type: "email", help: null },
    { name: "firstname", label: "First name", help: null },
    { name: "lastname", label: "Last name", help: null },
    { name: "timezone", label: "Time zone", placeholder: "e.g. Europe/Paris", help: null },
  ]);
}

/** Shows a user's API key and secret (asking the server for them, or for new ones). */
export function KeysDialog({ user, onClose }) {
  const [keys, setKeys] = useState(null);
  const [failure, setFailure] = useState("");
  const load = async (fresh) => {
    setFailure("");
    try {
      if (fresh) {
        const reply = await run("registerUserKeys", { id: user.id }, { label: `New API keys for ${user.username}` });
        setKeys(reply.userkeys || reply);
      } else {
        const reply = await call("getUserKeys", { id: user.id });
        setKeys(reply.userkeys || reply);
      }
    } catch (error) {
      setFailure(error.message);
    }
  };
  return html`<${Dialog} title=${`API keys of ${user.username}`} onClose=${onClose}>
    <div class="form">
      <p class="muted">For CloudMonkey and other CloudStack clients. Keep the secret key secret: it signs requests as this user.</p>
      ${failure && html`<${Alert} kind="error">${failure}</${Alert}>`}
      ${keys && (keys.apikey ? html`<dl class="details">
        <div class="detail"><dt>API key</dt><dd><code class="secret-value">${keys.apikey}</code></dd></div>
        <div class="detail"><dt>Secret key</dt><dd><code class="secret-value">${keys.secretkey}</code></dd></div></dl>`
        : html`<p>This user has no API keys yet.</p>`)}
      <div class="form-actions">
        ${can("getUserKeys") && !keys && html`<button type="button" onClick=${() => load(false)}>Show the keys</button>`}
        ${can("registerUserKeys") && html`<button type="button" class="primary" onClick=${async () => {
          if (!keys || !keys.apikey || await confirm({ title: "Replace the keys?", confirmLabel: "Replace", danger: true,
            message: "Clients using the current keys stop working." })) load(true);
        }}>Generate new keys</button>`}
      </div>
    </div>
  </${Dialog}>`;
}

export function UsersTable({ users, changed, accountName, domainid }) {
  const [dialog, setDialog] = useState(null);
  const operate = async (user, command, verb, question) => {
    if (question && !await confirm(question)) return;
    try { await run(command, { id: user.id }, { label: `${verb} user ${user.username}` }); } catch (_error) { /* listed */ }
    changed();
  };
  return html`
    <div class="card-head"><h2>Users</h2>${can("createUser") && html`<button type="button" class="primary small"
      onClick=${() => setDialog({ kind: "add" })}>Add user</button>`}</div>
    <div class="table-wrap"><table class="grid">
      <caption class="visually-hidden">Users</caption>
      <thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">State</th>
        <th scope="col">Created</th><th scope="col" class="actions-col">Actions</th></tr></thead>
      <tbody>${users.map((user) => html`<tr key=${user.id} data-name=${user.username}>
        <td class="primary-cell" data-label="Username"><span class="row-title">${user.username}</span></td>
        <td data-label="Name">${[user.firstname, user.lastname].filter(Boolean).join(" ")}</td>
        <td data-label="E-mail">${user.email}</td>
        <td data-label="State"><${StateBadge} state=${user.state} label=${user.state} /></td>
        <td data-label="Created" class="nowrap"><${DateText} value=${user.created} /></td>
        <td class="actions-cell" data-label="Actions"><div class="row-actions">
          ${can("updateUser") && html`<${RowButton} label="Edit" name=${user.username} onClick=${() => setDialog({ kind: "edit", user })} />`}
          ${(can("getUserKeys") || can("registerUserKeys")) && html`<${RowButton} label="API keys" name=${user.username} action="keys"
            onClick=${() => setDialog({ kind: "keys", user })} />`}
          ${user.state !== "enabled" && can("enableUser") && html`<${RowButton} label="Enable" name=${user.username}
            onClick=${() => operate(user, "enableUser", "Enable")} />`}
          ${user.state === "enabled" && can("disableUser") && html`<${RowButton} label="Disable" name=${user.username}
            onClick=${() => operate(user, "disableUser", "Disable", { title: `Disable ${user.username}?`, confirmLabel: "Disable",
              message: "The user can no longer log in or use API keys until enabled again." })} />`}
          ${user.state === "enabled" && can("lockUser") && html`<${RowButton} label="Lock" name=${user.username}
            onClick=${() => operate(user, "lockUser", "Lock", { title: `Lock ${user.username}?`, confirmLabel: "Lock",
              message: "The user can no longer log in until enabled again." })} />`}
        </div></td>
      </tr>`)}</tbody>
    </table></div>
    ${dialog && dialog.kind === "add" && html`<${FormDialog} title=${`Add a user to ${accountName}`} wide=${true} command="createUser"
      fields=${userFields("createUser")} extra=${{ account: accountName, domainid }}
      submitLabel="Add user" label=${(values) => `Add user ${values.username}`} onClose=${() => setDialog(null)} onDone=${changed} />`}
    ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.user.username}`} wide=${true} command="updateUser"
      fields=${userFields("updateUser")} extra=${{ id: dialog.user.id }} label=${`Edit user ${dialog.user.username}`}
      initial=${{ username: dialog.user.username, email: dialog.user.email || "", firstname: dialog.user.firstname || "",
        lastname: dialog.user.lastname || "", timezone: dialog.user.timezone || "" }}
      onClose=${() => setDialog(null)} onDone=${changed} />`}
    ${dialog && dialog.kind === "keys" && html`<${KeysDialog} user=${dialog.user} onClose=${() => setDialog(null)} />`}`;
}
