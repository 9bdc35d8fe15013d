// Service offerings: the sizes instances come in. An offering without a CPU count and memory is a custom
// one: whoever deploys chooses the size. External details go to the extension with every instance.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, externalOf, mebibytes } from "../format.js";
import { FormDialog, fromApi, rowsOf } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { MapTable, Page } from "../page.js";
import { ListView, RowButton } from "../table.js";

const fixed = (values) => !values.customized;

function createFields() {
  return fromApi("createServiceOffering", [
    { name: "name", label: "Name" },
    { name: "displaytext", label: "Description" },
    { name: "customized", label: "Custom size", type: "switch", local: true,
      help: "Leave CPU and memory open: whoever deploys chooses them." },
    { name: "cpunumber", label: "vCPUs", required: true, min: 1, when: fixed, help: null },
    { name: "cpuspeed", label: "CPU speed (MHz)", min: 1, when: fixed, help: null },
    { name: "memory", label: "Memory (MiB)", required: true, min: 1, when: fixed, help: null },
    { name: "hosttags", label: "Host tags", help: "Only hosts with this tag run instances of this offering." },
    { name: "externaldetails", label: "Details for the extension", help: "Key/value pairs the extension receives with every instance of this offering." },
    { name: "offerha", label: "Offer HA" },
  ]);
}

function editFields() {
  return fromApi("updateServiceOffering", [
    { name: "name", label: "Name" }, { name: "displaytext", label: "Description" }, { name: "hosttags", label: "Host tags" },
    { name: "externaldetails", label: "Details for the extension", help: "Replaces the offering's external details." },
  ]);
}

export default function Offerings() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const remove = async (offering, changed) => {
    if (!await confirm({ title: `Delete ${offering.name}?`, confirmLabel: "Delete", danger: true,
      message: "Running instances keep their size; the offering can no longer be chosen." })) return;
    try { await run("deleteServiceOffering", { id: offering.id }, { label: `Delete offering ${offering.name}` }); } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("createServiceOffering") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>
    Add offering</button>`;
  return html`
    <${Page} title="Service offerings" actions=${add}>
      <${ListView} command="listServiceOfferings" label="Service offerings" reloadKey=${reloadKey} empty="No service offerings yet."
        columns=${[
          { key: "name", label: "Name", primary: true, render: (offering) => html`<span class="row-title">${offering.name}</span>
            ${offering.iscustomized && html`<span class="tag">Custom</span>`}
            ${offering.displaytext && offering.displaytext !== offering.name && html`<span class="muted sub">${offering.displaytext}</span>`}` },
          { key: "cpunumber", label: "vCPUs", render: (offering) => offering.iscustomized ? "chosen" : offering.cpunumber },
          { key: "cpuspeed", label: "CPU speed", render: (offering) => offering.cpuspeed ? `${offering.cpuspeed} MHz` : "" },
          { key: "memory", label: "Memory", render: (offering) => offering.iscustomized ? "chosen" : mebibytes(offering.memory) },
          { key: "hosttags", label: "Host tags", phone: false },
          { key: "details", label: "Extension details", sortable: false, phone: false,
            render: (offering) => html`<${MapTable} map=${externalOf(offering.serviceofferingdetails)} secret=${true} empty="—" />` },
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (offering) => html`<${DateText} value=${offering.created} />` },
        ]}
        actions=${can("updateServiceOffering") && ((offering, changed) => html`
          <${RowButton} label="Edit" name=${offering.name} onClick=${() => setDialog({ kind: "edit", offering })} />
          ${can("deleteServiceOffering") && html`<${RowButton} label="Delete" name=${offering.name} kind="danger-outline"
            onClick=${() => remove(offering, changed)} />`}`)} />
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Add a service offering" wide=${true}
        command="createServiceOffering" fields=${createFields()} submitLabel="Add offering"
        label=${(values) => `Add offering ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.offering.name}`} command="updateServiceOffering"
        fields=${editFields()} extra=${{ id: dialog.offering.id }} label=${`Edit offering ${dialog.offering.name}`}
        initial=${{ name: dialog.offering.name, displaytext: dialog.offering.displaytext, hosttags: dialog.offering.hosttags || "",
          externaldetails: rowsOf(externalOf(dialog.offering.serviceofferingdetails)) }}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
