// Zones: the top of the infrastructure (a data centre), holding pods, clusters and hosts.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";
import { AllocationButton, DeleteButton } from "./infra_common.js";

function zoneFields(command) {
  return fromApi(command, [
    { name: "name", label: "Name" },
    { name: "description", label: "Description" },
    { name: "networktype", label: "Network type", type: "select", options: ["Advanced", "Basic"], initial: "Advanced",
      help: "Advanced: isolated guest networks with VLANs. Basic: one flat shared network." },
    { name: "dns1", label: "DNS 1", placeholder: "e.g. 8.8.8.8", help: "Public DNS server for guests." },
    { name: "dns2", label: "DNS 2", help: null },
    { name: "internaldns1", label: "Internal DNS 1", placeholder: "e.g. 10.0.0.1", help: "DNS server for system use." },
    { name: "guestcidraddress", label: "Guest CIDR", placeholder: "e.g. 10.1.1.0/24", help: "Default address range of isolated guest networks." },
    { name: "domain", label: "Network domain", help: null },
    command === "createZone" && { name: "allocationstate", label: "State", type: "select", options: ["Enabled", "Disabled"],
      initial: "Enabled", help: "A disabled zone takes no new instances." },
  ]);
}

export default function Zones() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const add = can("createZone") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>Add zone</button>`;
  return html`
    <${Page} title="Zones" actions=${add}>
      <${ListView} command="listZones" label="Zones" reloadKey=${reloadKey} empty="No zones yet: add one to start."
        columns=${[
          { key: "name", label: "Name", primary: true, render: (zone) => html`<span class="row-title">${zone.name}</span>
            ${zone.description && html`<span class="muted sub">${zone.description}</span>`}` },
          { key: "allocationstate", label: "State", render: (zone) => html`<${StateBadge} state=${zone.allocationstate} />` },
          { key: "networktype", label: "Network type" },
          { key: "guestcidraddress", label: "Guest CIDR" },
          { key: "dns1", label: "DNS", phone: false, render: (zone) => [zone.dns1, zone.dns2].filter(Boolean).join(", ") },
          { key: "links", label: "Contents", sortable: false, phone: false, render: (zone) => html`
            <a href=${`/pods?zoneid=${zone.id}`}>Pods</a> · <a href=${`/clusters?zoneid=${zone.id}`}>Clusters</a> ·
            <a href=${`/hosts?zoneid=${zone.id}`}>Hosts</a>` },
        ]}
        actions=${(zone, changed) => html`
          ${can("updateZone") && html`<${RowButton} label="Edit" name=${zone.name} onClick=${() => setDialog({ kind: "edit", zone })} />`}
          <${AllocationButton} item=${zone} command="updateZone" what="zone" changed=${changed} />
          <${DeleteButton} item=${zone} command="deleteZone" what="zone" changed=${changed}
            message="The zone must be empty: no pods, clusters, hosts or networks left in it." />`} />
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Add a zone" wide=${true} command="createZone"
        fields=${zoneFields("createZone")} submitLabel="Add zone" label=${(values) => `Add zone ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.zone.name}`} wide=${true} command="updateZone"
        fields=${zoneFields("updateZone")} extra=${{ id: dialog.zone.id }} label=${`Edit zone ${dialog.zone.name}`}
        initial=${Object.fromEntries(["name", "description", "dns1", "dns2", "internaldns1", "guestcidraddress", "domain"]
          .map((key) => [key, dialog.zone[key] || ""]))}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
