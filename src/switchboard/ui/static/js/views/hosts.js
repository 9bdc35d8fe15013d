// Hosts: the machines (or, for External clusters, the endpoints) instances run on; enable, disable and
// maintenance take them in and out of placement.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";
import { DeleteButton } from "./infra_common.js";
import { confirm } from "../dialogs.js";

const notExternal = (values) => values.hypervisor !== "External";

function addFields() {
  return fromApi("addHost", [
    { name: "zoneid", label: "Zone" },
    { name: "podid", label: "Pod", relatedParams: (values) => ({ zoneid: values.zoneid }) },
    { name: "clusterid", label: "Cluster", required: true, relatedParams: (values) => ({ podid: values.podid }),
      relatedLabel: (cluster) => `${cluster.name} (${cluster.hypervisortype}${cluster.extensionname ? `, ${cluster.extensionname}` : ""})` },
    { name: "hypervisor", label: "Hypervisor", type: "picker", related: "listHypervisors", initial: "External",
      relatedLabel: (item) => item.name, relatedValue: (item) => item.name, help: "The cluster's hypervisor." },
    { name: "url", label: "Host name or URL", placeholder: "e.g. host-1 or http://10.0.0.5",
      help: "How the host is known; for External hosts only its name matters (the extension reads its details)." },
    { name: "username", label: "Username", when: notExternal, help: null },
    { name: "password", label: "Password", type: "password", when: notExternal, help: null },
    { name: "externaldetails", label: "Details for the extension", secret: undefined, itemLabel: "detail",
      help: "Key/value pairs the extension receives for this host, e.g. its address and credentials. Values of keys that look secret are masked." },
    { name: "hosttags", label: "Host tags", help: "Comma-separated; offerings with a host tag only run on hosts that have it." },
    { name: "allocationstate", label: "State", type: "select", options: ["Enabled", "Disabled"], initial: "Enabled", help: null },
  ]);
}

function toHostParams(params) {
  const url = params.url && !/^[a-z][a-z0-9+.-]*:\/\//i.test(params.url) ? `http://${params.url}` : params.url;
  // External hosts have no credentials of their own (CloudStack's UI sends these placeholders too).
  const credentials = params.hypervisor === "External" ? { username: "external", password: "external" } : {};
  return { ...params, url, ...credentials };
}

function editFields() {
  return fromApi("updateHost", [
    { name: "name", label: "Name", help: null },
    { name: "hosttags", label: "Host tags", help: "Comma-separated; replaces the host's tags." },
    { name: "externaldetails", label: "Details for the extension",
      help: "Replaces all of the host's details when given (they are not shown: they may hold secrets). Leave empty to keep them." },
  ]);
}

const BUSY = ["PrepareForMaintenance", "Connecting"];

export default function Hosts() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const operate = async (host, command, label, changed, question) => {
    if (question && !await confirm(question)) return;
    const params = { id: host.id };
    if (command === "updateHost") params.allocationstate = host.resourcestate === "Disabled" ? "Enable" : "Disable";
    try { await run(command, params, { label, onStarted: changed }); } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("addHost") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "add" })}>Add host</button>`;
  return html`
    <${Page} title="Hosts" actions=${add}>
      <${ListView} command="listHosts" label="Hosts" reloadKey=${reloadKey} empty="No hosts yet."
        busy=${(host) => BUSY.includes(host.resourcestate) || BUSY.includes(host.state)}
        filters=${[{ param: "zoneid", label: "Zone", related: "listZones" }, { param: "clusterid", label: "Cluster", related: "listClusters" },
          { param: "state", label: "State", options: ["Up", "Down", "Disconnected", "Alert", "Connecting"] },
          { param: "resourcestate", label: "Resource state", options: ["Enabled", "Disabled", "Maintenance", "PrepareForMaintenance", "ErrorInMaintenance"] }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (host) => html`<span class="row-title">${host.name}</span>` },
          { key: "state", label: "State", render: (host) => html`<${StateBadge} state=${host.state} />` },
          { key: "resourcestate", label: "Resource state", render: (host) => html`<${StateBadge} state=${host.resourcestate} />` },
          { key: "clustername", label: "Cluster" },
          { key: "extensionname", label: "Extension", render: (host) => host.extensionid
            ? html`<a href=${`/extensions/${host.extensionid}`}>${host.extensionname}</a>` : html`<span class="muted">—</span>` },
          { key: "hypervisor", label: "Hypervisor", phone: false, laptop: false },
          { key: "zonename", label: "Zone", phone: false, laptop: false },
          { key: "hosttags", label: "Tags", phone: false, laptop: false },
          { key: "created", label: "Added", phone: false, className: "nowrap", render: (host) => html`<${DateText} value=${host.created} />` },
        ]}
        actions=${(host, changed) => html`
          ${can("updateHost") && html`<${RowButton} label="Edit" name=${host.name} onClick=${() => setDialog({ kind: "edit", host })} />`}
          ${can("updateHost") && ["Enabled", "Disabled"].includes(host.resourcestate) && html`<${RowButton}
            label=${host.resourcestate === "Disabled" ? "Enable" : "Disable"} name=${host.name}
            onClick=${() => operate(host, "updateHost", `${host.resourcestate === "Disabled" ? "Enable" : "Disable"} host ${host.name}`, changed)} />`}
          ${can("prepareHostForMaintenance") && ["Enabled", "Disabled"].includes(host.resourcestate) && html`<${RowButton}
            label="Maintenance" name=${host.name} onClick=${() => operate(host, "prepareHostForMaintenance", `Maintenance of ${host.name}`, changed,
              { title: `Put ${host.name} into maintenance?`, confirmLabel: "Start maintenance",
                message: "No new instances are placed on it. Move or stop its instances before working on it." })} />`}
          ${can("cancelHostMaintenance") && ["Maintenance", "PrepareForMaintenance", "ErrorInMaintenance"].includes(host.resourcestate) &&
            html`<${RowButton} label="End maintenance" name=${host.name} action="cancel-maintenance"
              onClick=${() => operate(host, "cancelHostMaintenance", `End maintenance of ${host.name}`, changed)} />`}
          <${DeleteButton} item=${host} command="deleteHost" what="host" changed=${changed}
            message="Only a host without instances can be deleted (or use Force)."
            options=${[{ name: "forced", label: "Force", help: "Delete it even though instances are recorded on it." }]}
            extra=${(answer) => (answer.forced ? { forced: true } : {})} />`} />
      ${dialog && dialog.kind === "add" && html`<${FormDialog} title="Add a host" wide=${true} command="addHost"
        fields=${addFields()} transform=${toHostParams} submitLabel="Add host" label=${(values) => `Add host ${values.url}`}
        onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.host.name}`} command="updateHost"
        fields=${editFields()} extra=${{ id: dialog.host.id }} initial=${{ name: dialog.host.name, hosttags: dialog.host.hosttags || "" }}
        label=${`Edit host ${dialog.host.name}`} onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
