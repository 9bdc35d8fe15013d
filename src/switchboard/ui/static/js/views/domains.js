// Domains: the tree accounts live in; a domain administrator manages the accounts below their domain.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { Dialog } from "../dialogs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";
import { LimitsPanel, usageColumns } from "./usage.js";

function createFields() {
  return fromApi("createDomain", [
    { name: "name", label: "Name", help: null },
    { name: "parentdomainid", label: "Parent domain", type: "picker", related: "listDomains", blank: "ROOT",
      relatedLabel: (domain) => domain.path || domain.name, help: "Left as ROOT: a top-level domain." },
    { name: "networkdomain", label: "Network domain", help: "DNS domain for the networks of its accounts." },
  ]);
}

export default function Domains() {
  const [open, setOpen] = useState(false);
  const [limits, setLimits] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const add = can("createDomain") && html`<button type="button" class="primary" onClick=${() => setOpen(true)}>Add domain</button>`;
  return html`
    <${Page} title="Domains" actions=${add}>
      <${ListView} command="listDomains" label="Domains" reloadKey=${reloadKey} sort=${{ key: "path", dir: "asc" }} empty="No domains."
        columns=${[
          { key: "path", label: "Path", primary: true, render: (domain) => html`<span class="row-title">${domain.path}</span>` },
          { key: "name", label: "Name" },
          { key: "level", label: "Level" },
          { key: "state", label: "State", render: (domain) => html`<${StateBadge} state=${domain.state} />` },
          { key: "accounts", label: "Accounts", sortable: false, render: (domain) => html`<a href=${`/accounts?domainid=${domain.id}`}>Accounts</a>` },
          ...usageColumns("listDomains"),
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (domain) => html`<${DateText} value=${domain.created} />` },
        ]}
        actions=${can("listResourceLimits") && ((domain) => html`<${RowButton} label="Limits" name=${domain.path || domain.name}
          onClick=${() => setLimits(domain)} />`)} />
      ${limits && html`<${Dialog} title=${`Limits of ${limits.path || limits.name}`} onClose=${() => setLimits(null)}>
        <div class="form">
          ${limits.level === 0 ? html`<p class="muted">The ROOT domain has no limits of its own: its accounts and subdomains are
            held by theirs, and by the defaults in the global settings (max.account.*, max.domain.*).</p>`
            : html`<p class="muted">What all accounts of the domain (and its subdomains) use together, against the domain's limits.</p>`}
          <${LimitsPanel} owner=${{ domainid: limits.id }} usage=${limits} name=${limits.path || limits.name}
            editable=${limits.level !== 0} changed=${() => setReloadKey((n) => n + 1)} />
          <div class="form-actions"><button type="button" class="primary" onClick=${() => setLimits(null)}>Close</button></div>
        </div>
      </${Dialog}>`}
      ${open && html`<${FormDialog} title="Add a domain" command="createDomain" fields=${createFields()} submitLabel="Add domain"
        label=${(values) => `Add domain ${values.name}`} onClose=${() => setOpen(false)} onDone=${() => setReloadKey((n) => n + 1)} />`}
    </${Page}>`;
}
