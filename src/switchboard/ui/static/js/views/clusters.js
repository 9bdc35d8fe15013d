// Clusters: groups of hosts of one hypervisor. An External cluster is driven by the extension registered
// to it, which gets the cluster's details with every call.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";
import { AllocationButton, DeleteButton } from "./infra_common.js";

const external = (values) => values.hypervisor === "External";

function addFields() {
  return fromApi("addCluster", [
    { name: "zoneid", label: "Zone" },
    { name: "podid", label: "Pod", relatedParams: (values) => ({ zoneid: values.zoneid }) },
    { name: "clustername", label: "Name", help: null },
    { name: "hypervisor", label: "Hypervisor", type: "picker", related: "listHypervisors", initial: "External",
      relatedLabel: (item) => item.name, relatedValue: (item) => item.name, help: "External: instances are run by an extension." },
    { name: "clustertype", label: "Cluster type", type: "select", options: ["CloudManaged", "ExternalManaged"],
      initial: "CloudManaged", help: null },
    { name: "extensionid", label: "Extension", when: external, relatedParams: { details: "min" },
      help: "The extension that drives this cluster's hosts (it can also be registered later)." },
    { name: "externaldetails", label: "Details for the extension", when: (values) => external(values) && values.extensionid,
      help: "Key/value pairs the extension receives for this cluster, e.g. an endpoint and its credentials." },
    { name: "arch", label: "Architecture", type: "select", options: ["x86_64", "aarch64"], initial: "x86_64", help: null },
    { name: "allocationstate", label: "State", type: "select", options: ["Enabled", "Disabled"], initial: "Enabled", help: null },
  ]);
}

function editFields(cluster) {
  return fromApi("updateCluster", [
    { name: "clustername", label: "Name", help: null },
    cluster.extensionid && { name: "externaldetails", label: "Details for the extension",
      help: "Replaces the cluster's details. The current ones are on the extension's Resources tab." },
  ]);
}

function registerFields() {
  return fromApi("registerExtension", [
    { name: "extensionid", label: "Extension", relatedParams: { details: "min" } },
    { name: "details", label: "Details for the extension", help: "Key/value pairs the extension receives for this cluster." },
  ]);
}

export default function Clusters() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const unregister = async (cluster, changed) => {
    if (!await confirm({ title: `Unregister ${cluster.extensionname} from ${cluster.name}?`, confirmLabel: "Unregister", danger: true,
      message: "The cluster's hosts can no longer run instances until an extension is registered again." })) return;
    try {
      await run("unregisterExtension", { extensionid: cluster.extensionid, resourceid: cluster.id, resourcetype: "Cluster" },
        { label: `Unregister ${cluster.extensionname} from ${cluster.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("addCluster") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "add" })}>Add cluster</button>`;
  return html`
    <${Page} title="Clusters" actions=${add}>
      <${ListView} command="listClusters" label="Clusters" reloadKey=${reloadKey} empty="No clusters yet."
        filters=${[{ param: "zoneid", label: "Zone", related: "listZones" }, { param: "podid", label: "Pod", related: "listPods" },
          { param: "extensionid", label: "Extension", related: "listExtensions" }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (cluster) => html`<span class="row-title">${cluster.name}</span>` },
          { key: "allocationstate", label: "State", render: (cluster) => html`<${StateBadge} state=${cluster.allocationstate} />` },
          { key: "hypervisortype", label: "Hypervisor" },
          { key: "extensionname", label: "Extension", render: (cluster) => cluster.extensionid
            ? html`<a href=${`/extensions/${cluster.extensionid}`}>${cluster.extensionname}</a>`
            : cluster.hypervisortype === "External" ? html`<span class="muted">none registered</span>` : html`<span class="muted">—</span>` },
          { key: "podname", label: "Pod", phone: false },
          { key: "zonename", label: "Zone", phone: false, laptop: false },
          { key: "arch", label: "Arch", phone: false, laptop: false },
          { key: "hosts", label: "Hosts", sortable: false, phone: false, render: (cluster) => html`<a href=${`/hosts?clusterid=${cluster.id}`}>Hosts</a>` },
        ]}
        actions=${(cluster, changed) => html`
          ${can("updateCluster") && html`<${RowButton} label="Edit" name=${cluster.name} onClick=${() => setDialog({ kind: "edit", cluster })} />`}
          ${cluster.hypervisortype === "External" && !cluster.extensionid && can("registerExtension") && html`<${RowButton}
            label="Register extension" name=${cluster.name} action="register" onClick=${() => setDialog({ kind: "register", cluster })} />`}
          ${cluster.extensionid && can("unregisterExtension") && html`<${RowButton} label="Unregister" name=${cluster.name}
            action="unregister" onClick=${() => unregister(cluster, changed)} />`}
          <${AllocationButton} item=${cluster} command="updateCluster" what="cluster" changed=${changed} />
          <${DeleteButton} item=${cluster} command="deleteCluster" what="cluster" changed=${changed}
            message="The cluster must have no hosts left; its extension is unregistered." />`} />
      ${dialog && dialog.kind === "add" && html`<${FormDialog} title="Add a cluster" wide=${true} command="addCluster"
        fields=${addFields()} submitLabel="Add cluster" label=${(values) => `Add cluster ${values.clustername}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.cluster.name}`} command="updateCluster"
        fields=${editFields(dialog.cluster)} extra=${{ id: dialog.cluster.id }} initial=${{ clustername: dialog.cluster.name }}
        label=${`Edit cluster ${dialog.cluster.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "register" && html`<${FormDialog} title=${`Register an extension with ${dialog.cluster.name}`}
        command="registerExtension" fields=${registerFields()} extra=${{ resourceid: dialog.cluster.id, resourcetype: "Cluster" }}
        submitLabel="Register" label=${`Register an extension with ${dialog.cluster.name}`} onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
