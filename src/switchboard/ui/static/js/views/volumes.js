// Volumes: the disks instances were given at deploy — a ROOT volume each, and a DATADISK where a disk
// offering was chosen. For External instances the disks themselves are the extension's: CloudStack (and
// Switchboard) keep their records but do not attach, detach, resize or snapshot them.
import { can } from "../api.js";
import { DateText, StateBadge, bytes } from "../format.js";
import { html } from "../lib.js";
import { Page } from "../page.js";
import { ListView, accountColumn, projectFilter } from "../table.js";
import { TagChips } from "./tags.js";
import { instanceHref } from "./vm_actions.js";

/** The columns a volume list shows; `withInstance` adds the instance it belongs to. */
export function volumeColumns({ withInstance = true } = {}) {
  return [
    { key: "name", label: "Name", primary: true, render: (volume) => html`<span class="row-title">${volume.name}</span>
      <span class=${`tag ${volume.type === "ROOT" ? "tag-muted" : ""}`}>${volume.type === "ROOT" ? "Root" : "Data"}</span>` },
    { key: "size", label: "Size", value: (volume) => Number(volume.size) || 0,
      render: (volume) => bytes(volume.size) || html`<span class="muted" title="The extension decides">—</span>` },
    { key: "state", label: "State", render: (volume) => html`<${StateBadge} state=${volume.state} />` },
    withInstance && { key: "vmname", label: "Instance", value: (volume) => volume.vmdisplayname || volume.vmname || "",
      render: (volume) => (volume.virtualmachineid ? html`<a href=${instanceHref(volume, "volumes")}>
        ${volume.vmdisplayname || volume.vmname}</a>` : html`<span class="muted">Not attached</span>`) },
    { key: "deviceid", label: "Device", field: "deviceid", phone: false, value: (volume) => Number(volume.deviceid),
      render: (volume) => (volume.deviceid === undefined ? "" : String(volume.deviceid)) },
    { key: "offering", label: "Offering",
      value: (volume) => volume.diskofferingname || volume.serviceofferingname || "",
      render: (volume) => (volume.diskofferingname
        ? html`<span>${volume.diskofferingname}<span class="muted sub">disk offering</span></span>`
        : volume.serviceofferingname ? html`<span>${volume.serviceofferingname}<span class="muted sub">service offering</span></span>` : "") },
    { key: "provisioningtype", label: "Provisioning", field: "provisioningtype", phone: false, laptop: false },
    { key: "zonename", label: "Zone", phone: false, laptop: false },
    { key: "tags", label: "Tags", field: "tags", sortable: false, phone: false, render: (volume) => html`<${TagChips} tags=${volume.tags} />` },
    accountColumn(),
    { key: "created", label: "Created", phone: false, className: "nowrap", render: (volume) => html`<${DateText} value=${volume.created} />` },
  ].filter(Boolean);
}

export default function Volumes() {
  return html`
    <${Page} title="Volumes" subtitle="Disks of the instances: the root disk each has, and the data disks chosen at deploy.">
      <${ListView} command="listVolumes" label="Volumes" sort=${{ key: "created", dir: "desc" }}
        empty=${html`No volumes yet. ${can("deployVirtualMachine") ? html`Volumes come with the instances you <a href="/deploy">deploy</a>.` : ""}`}
        filters=${[
          { param: "type", label: "Type", options: [["ROOT", "Root"], ["DATADISK", "Data"]] },
          { param: "zoneid", label: "Zone", related: "listZones" },
          projectFilter(),
        ]}
        columns=${volumeColumns()} />
    </${Page}>`;
}
