// Accounts: who owns resources. Each has a role and users who log in to it.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { navigate } from "../router.js";
import { ListView } from "../table.js";
import { usageColumns } from "./usage.js";

function createFields() {
  return fromApi("createAccount", [
    { name: "username", label: "Username", autocomplete: "off", help: "Its first user logs in with this." },
    { name: "password", label: "Password", type: "password", help: null },
    { name: "email", label: "E-mail", type: "email", help: null },
    { name: "firstname", label: "First name", help: null },
    { name: "lastname", label: "Last name", help: null },
    { name: "account", label: "Account name", help: "Left empty: the username." },
    { name: "roleid", label: "Role", blank: "(from the account type)", relatedLabel: (role) => `${role.name} (${role.type})`,
      help: "What the account may do." },
    { name: "domainid", label: "Domain", blank: "(your domain)", relatedLabel: (domain) => domain.path || domain.name, help: null },
    { name: "timezone", label: "Time zone", placeholder: "e.g. Europe/Paris", help: null },
  ]);
}

export default function Accounts() {
  const [open, setOpen] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const add = can("createAccount") && html`<button type="button" class="primary" onClick=${() => setOpen(true)}>Add account</button>`;
  return html`
    <${Page} title="Accounts" actions=${add}>
      <${ListView} command="listAccounts" label="Accounts" reloadKey=${reloadKey} empty="No accounts."
        filters=${[{ param: "domainid", label: "Domain", related: "listDomains", relatedLabel: (domain) => domain.path || domain.name },
          { param: "state", label: "State", options: ["enabled", "disabled", "locked"] }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (account) => html`<a class="row-title" href=${`/accounts/${account.id}`}>${account.name}</a>` },
          { key: "state", label: "State", render: (account) => html`<${StateBadge} state=${account.state} label=${account.state} />` },
          { key: "rolename", label: "Role" },
          { key: "domain", label: "Domain", render: (account) => account.domainpath || account.domain },
          { key: "users", label: "Users", sortable: false, phone: false, render: (account) => (account.user || []).map((user) => user.username).join(", ") },
          ...usageColumns("listAccounts"),
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (account) => html`<${DateText} value=${account.created} />` },
        ]} />
      ${open && html`<${FormDialog} title="Add an account" wide=${true} command="createAccount" fields=${createFields()}
        submitLabel="Add account" label=${(values) => `Add account ${values.account || values.username}`}
        onClose=${() => setOpen(false)} onDone=${(reply) => { setReloadKey((n) => n + 1); if (reply && reply.account) navigate(`/accounts/${reply.account.id}`); }} />`}
    </${Page}>`;
}
