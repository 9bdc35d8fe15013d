// Networks: guest networks instances attach to (isolated, shared or L2, with a VLAN).
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton, accountColumn } from "../table.js";

function createFields() {
  return fromApi("createNetwork", [
    { name: "name", label: "Name" },
    { name: "displaytext", label: "Description" },
    { name: "zoneid", label: "Zone" },
    { name: "networkofferingid", label: "Network offering", relatedParams: (values) => ({ zoneid: values.zoneid, state: "Enabled" }),
      relatedLabel: (offering) => `${offering.displaytext || offering.name} (${offering.guestiptype})`,
      help: "Decides the kind of network: isolated, shared or L2." },
    { name: "vlan", label: "VLAN", help: "Administrators only. Left empty, one is taken from the zone's range.", when: () => can("listHosts") },
    { name: "gateway", label: "Gateway", placeholder: "e.g. 10.1.2.1" },
    { name: "netmask", label: "Netmask", placeholder: "e.g. 255.255.255.0" },
    { name: "networkdomain", label: "Network domain", help: "DNS domain of the instances on it." },
  ]);
}

function editFields() {
  return fromApi("updateNetwork", [
    { name: "name", label: "Name" }, { name: "displaytext", label: "Description" },
    { name: "networkdomain", label: "Network domain" },
  ]);
}

export default function Networks() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const remove = async (network, changed) => {
    const answer = await confirm({ title: `Delete network ${network.name}?`, confirmLabel: "Delete", danger: true,
      message: "The network must have no instances left on it.",
      options: can("listHosts") ? [{ name: "forced", label: "Force", help: "Delete it even if cleaning up its resources fails." }] : [] });
    if (!answer) return;
    try {
      await run("deleteNetwork", { id: network.id, ...(answer.forced ? { forced: true } : {}) }, { label: `Delete network ${network.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("createNetwork") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>Add network</button>`;
  return html`
    <${Page} title="Networks" actions=${add}>
      <${ListView} command="listNetworks" label="Networks" reloadKey=${reloadKey} empty="No networks yet."
        filters=${[{ param: "zoneid", label: "Zone", related: "listZones" },
          { param: "type", label: "Type", options: ["Isolated", "Shared", "L2"] }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (network) => html`<span class="row-title">${network.name}</span>
            ${network.displaytext && network.displaytext !== network.name && html`<span class="muted sub">${network.displaytext}</span>`}` },
          { key: "state", label: "State", render: (network) => html`<${StateBadge} state=${network.state} />` },
          { key: "type", label: "Type" },
          { key: "cidr", label: "CIDR", render: (network) => network.cidr || html`<span class="muted">—</span>` },
          { key: "vlan", label: "VLAN", render: (network) => network.vlan || html`<span class="muted">—</span>` },
          { key: "zonename", label: "Zone", phone: false, laptop: false },
          accountColumn(),
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (network) => html`<${DateText} value=${network.created} />` },
        ]}
        actions=${(network, changed) => html`
          ${can("updateNetwork") && html`<${RowButton} label="Edit" name=${network.name} onClick=${() => setDialog({ kind: "edit", network })} />`}
          ${can("deleteNetwork") && html`<${RowButton} label="Delete" name=${network.name} kind="danger-outline" onClick=${() => remove(network, changed)} />`}`} />
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Add a network" wide=${true} command="createNetwork"
        fields=${createFields()} submitLabel="Add network" label=${(values) => `Add network ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.network.name}`} command="updateNetwork"
        fields=${editFields()} extra=${{ id: dialog.network.id }} label=${`Edit network ${dialog.network.name}`}
        initial=${{ name: dialog.network.name, displaytext: dialog.network.displaytext || "", networkdomain: dialog.network.networkdomain || "" }}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
