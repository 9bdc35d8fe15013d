// Disk offerings: the data disk sizes a deploy may add (a custom one lets whoever deploys choose the
// size). Administrators add, change and delete them; users see those shown to them.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";

const fixed = (values) => !values.customized;

function createFields() {
  return fromApi("createDiskOffering", [
    { name: "name", label: "Name", help: null },
    { name: "displaytext", label: "Description", help: null },
    { name: "customized", label: "Custom size", help: "Whoever deploys chooses the size." },
    { name: "disksize", label: "Size (GiB)", required: true, min: 1, when: fixed, help: null },
    { name: "provisioningtype", label: "Provisioning", type: "select", options: [["thin", "Thin"], ["sparse", "Sparse"], ["fat", "Fat"]],
      blank: "Thin (default)", help: "How the extension is asked to allocate the disk." },
    { name: "storagetype", label: "Storage", type: "select", options: [["shared", "Shared"], ["local", "Local"]],
      blank: "Shared (default)", help: null },
    { name: "tags", label: "Storage tags", help: "Comma-separated; passed on with the disk." },
    { name: "displayoffering", label: "Shown to users", initial: true, help: "Users can choose it when they deploy." },
  ]);
}

function editFields() {
  return fromApi("updateDiskOffering", [
    { name: "name", label: "Name", help: null }, { name: "displaytext", label: "Description", help: null },
    { name: "tags", label: "Storage tags", help: null },
    { name: "displayoffering", label: "Shown to users", help: "Users can choose it when they deploy." },
  ]);
}

export function diskSize(offering) {
  return offering.iscustomized ? "chosen at deploy" : `${offering.disksize} GiB`;
}

export default function DiskOfferings() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const remove = async (offering, changed) => {
    if (!await confirm({ title: `Delete disk offering ${offering.name}?`, confirmLabel: "Delete", danger: true,
      message: "Volumes made from it keep their size; it can no longer be chosen." })) return;
    try { await run("deleteDiskOffering", { id: offering.id }, { label: `Delete disk offering ${offering.name}` }); } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("createDiskOffering") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>
    Add disk offering</button>`;
  return html`
    <${Page} title="Disk offerings" actions=${add}>
      <${ListView} command="listDiskOfferings" label="Disk offerings" reloadKey=${reloadKey} empty="No disk offerings yet."
        filters=${[{ param: "zoneid", label: "Zone", related: "listZones" }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (offering) => html`<span class="row-title">${offering.name}</span>
            ${offering.iscustomized && html`<span class="tag">Custom</span>`}
            ${offering.displayoffering === false && html`<span class="tag tag-muted">Hidden</span>`}
            ${offering.displaytext && offering.displaytext !== offering.name && html`<span class="muted sub">${offering.displaytext}</span>`}` },
          { key: "disksize", label: "Size", value: (offering) => (offering.iscustomized ? -1 : Number(offering.disksize)),
            render: (offering) => (offering.iscustomized ? html`<span class="muted">chosen at deploy</span>` : `${offering.disksize} GiB`) },
          { key: "provisioningtype", label: "Provisioning", field: "provisioningtype" },
          { key: "storagetype", label: "Storage", field: "storagetype", phone: false },
          { key: "tags", label: "Storage tags", phone: false, render: (offering) => offering.tags || html`<span class="muted">—</span>` },
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (offering) => html`<${DateText} value=${offering.created} />` },
        ]}
        actions=${can("updateDiskOffering") && ((offering, changed) => html`
          <${RowButton} label="Edit" name=${offering.name} onClick=${() => setDialog({ kind: "edit", offering })} />
          ${can("deleteDiskOffering") && html`<${RowButton} label="Delete" name=${offering.name} kind="danger-outline"
            onClick=${() => remove(offering, changed)} />`}`)} />
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Add a disk offering" wide=${true}
        command="createDiskOffering" fields=${createFields()} submitLabel="Add disk offering"
        label=${(values) => `Add disk offering ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.offering.name}`} command="updateDiskOffering"
        fields=${editFields()} extra=${{ id: dialog.offering.id }} label=${`Edit disk offering ${dialog.offering.name}`}
        initial=${{ name: dialog.offering.name, displaytext: dialog.offering.displaytext || "", tags: dialog.offering.tags || "",
          displayoffering: dialog.offering.displayoffering !== false }}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
