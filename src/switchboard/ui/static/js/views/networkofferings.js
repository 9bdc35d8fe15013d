// Network offerings: the kinds of guest network users may create (L2 or Isolated, with the services the
// network gives its instances). Created Disabled unless enabled at once, as CloudStack creates them; a
// network can only be made from an Enabled offering. The default offerings are never deleted.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, StateBadge, yesNo } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";

// The services a network without a virtual router can give (the extension serves them): what the
// default Isolated offering has.
const SERVICES = [["Dhcp", "DHCP (addresses)"], ["Dns", "DNS"], ["UserData", "User data (config drive)"]];
const isolated = (values) => values.guestiptype === "Isolated";

function createFields() {
  return fromApi("createNetworkOffering", [
    { name: "name", label: "Name", help: null },
    { name: "displaytext", label: "Description", help: null },
    { name: "guestiptype", label: "Guest network type", type: "select", required: true, initial: "Isolated",
      options: [["Isolated", "Isolated: addresses from the network's range"], ["L2", "L2: a plain VLAN, no addresses"]],
      help: null },
    { name: "traffictype", label: "Traffic type", type: "select", options: [["Guest", "Guest"]], initial: "Guest", help: null },
    { name: "supportedservices", label: "Services", type: "checkboxes", options: SERVICES, initial: ["Dhcp", "Dns", "UserData"],
      when: isolated, help: "What the extension gives the network's instances.", wide: true },
    { name: "specifyvlan", label: "Specify VLAN", help: "The administrator names the VLAN of each network." },
    { name: "ispersistent", label: "Persistent", help: "The network is set up as it is created, before any instance." },
    { name: "availability", label: "Availability", type: "select", options: [["Optional", "Optional"], ["Required", "Required"]],
      initial: "Optional", help: "Required: the offering every new network uses by default." },
    { name: "networkrate", label: "Rate (Mbit/s)", min: 1, help: "Left empty: no limit." },
    { name: "enable", label: "Enable now", initial: true, help: "Disabled offerings cannot be chosen for new networks." },
  ]);
}

function editFields() {
  return fromApi("updateNetworkOffering", [
    { name: "name", label: "Name", help: null }, { name: "displaytext", label: "Description", help: null },
    { name: "availability", label: "Availability", type: "select", options: [["Optional", "Optional"], ["Required", "Required"]], help: null },
  ]);
}

export default function NetworkOfferings() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const setState = async (offering, state, changed) => {
    if (state === "Disabled" && !await confirm({ title: `Disable ${offering.name}?`, confirmLabel: "Disable",
      message: "Existing networks keep working; no new network can be made from it." })) return;
    try {
      await run("updateNetworkOffering", { id: offering.id, state }, { label: `${state === "Enabled" ? "Enable" : "Disable"} network offering ${offering.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  const remove = async (offering, changed) => {
    if (!await confirm({ title: `Delete network offering ${offering.name}?`, confirmLabel: "Delete", danger: true,
      message: "Only an offering no network uses can be deleted." })) return;
    try { await run("deleteNetworkOffering", { id: offering.id }, { label: `Delete network offering ${offering.name}` }); } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("createNetworkOffering") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>
    Add network offering</button>`;
  return html`
    <${Page} title="Network offerings" actions=${add}>
      <${ListView} command="listNetworkOfferings" label="Network offerings" reloadKey=${reloadKey} empty="No network offerings."
        sort=${{ key: "name", dir: "asc" }}
        filters=${[
          { param: "state", label: "State", options: ["Enabled", "Disabled"] },
          { param: "guestiptype", label: "Type", options: ["Isolated", "L2", "Shared"] },
        ]}
        columns=${[
          { key: "name", label: "Name", primary: true, className: "break-cell", render: (offering) => html`<span class="row-title">${offering.name}</span>
            ${offering.isdefault && html`<span class="tag tag-muted">Default</span>`}
            ${offering.displaytext && offering.displaytext !== offering.name && html`<span class="muted sub">${offering.displaytext}</span>`}` },
          { key: "state", label: "State", render: (offering) => html`<${StateBadge} state=${offering.state} />` },
          { key: "guestiptype", label: "Type" },
          { key: "service", label: "Services", sortable: false, phone: false,
            render: (offering) => ((offering.service || []).length ? html`<span class="chip-row">${(offering.service || []).map((service) => html`<code class="param-chip" key=${service.name}>${service.name}</code>`)}</span>`
              : html`<span class="muted">—</span>`) },
          { key: "specifyvlan", label: "Specify VLAN", phone: false, render: (offering) => yesNo(offering.specifyvlan) },
          { key: "availability", label: "Availability", phone: false, laptop: false },
          { key: "networkrate", label: "Rate", phone: false, laptop: false,
            render: (offering) => (Number(offering.networkrate) > 0 ? `${offering.networkrate} Mbit/s` : html`<span class="muted">—</span>`) },
          { key: "created", label: "Created", phone: false, laptop: false, className: "nowrap", render: (offering) => html`<${DateText} value=${offering.created} />` },
        ]}
        actions=${can("updateNetworkOffering") && ((offering, changed) => html`
          ${offering.state === "Enabled"
            ? html`<${RowButton} label="Disable" name=${offering.name} onClick=${() => setState(offering, "Disabled", changed)} />`
            : html`<${RowButton} label="Enable" name=${offering.name} onClick=${() => setState(offering, "Enabled", changed)} />`}
          <${RowButton} label="Edit" name=${offering.name} onClick=${() => setDialog({ kind: "edit", offering })} />
          ${can("deleteNetworkOffering") && !offering.isdefault && html`<${RowButton} label="Delete" name=${offering.name}
            kind="danger-outline" onClick=${() => remove(offering, changed)} />`}`)} />
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Add a network offering" wide=${true}
        command="createNetworkOffering" fields=${createFields()} submitLabel="Add network offering"
        label=${(values) => `Add network offering ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.offering.name}`} command="updateNetworkOffering"
        fields=${editFields()} extra=${{ id: dialog.offering.id }} label=${`Edit network offering ${dialog.offering.name}`}
        initial=${{ name: dialog.offering.name, displaytext: dialog.offering.displaytext || "", availability: dialog.offering.availability || "" }}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
