// Roles: what each kind of account may do (which API commands it may call).
import { StateBadge } from "../format.js";
import { html } from "../lib.js";
import { Page } from "../page.js";
import { ListView } from "../table.js";

export default function Roles() {
  return html`
    <${Page} title="Roles">
      <${ListView} command="listRoles" label="Roles" empty="No roles."
        filters=${[{ param: "type", label: "Type", options: ["Admin", "ResourceAdmin", "DomainAdmin", "User"] }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (role) => html`<span class="row-title">${role.name}</span>
            ${role.isdefault && html`<span class="tag tag-muted">Default</span>`}` },
          { key: "type", label: "Type" },
          { key: "description", label: "Description" },
          { key: "state", label: "State", render: (role) => html`<${StateBadge} state=${role.state === "ENABLED" ? "Enabled" : role.state} />` },
        ]} />
    </${Page}>`;
}
