// One extension: its details (editable), the clusters registered to it, and its custom actions.
import { can, find, listAll } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, StateBadge } from "../format.js";
import { ApiForm, FormDialog, fromApi, rowsOf } from "../forms.js";
import { run } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Details, MapTable, Missing, Page, Tabs } from "../page.js";
import { navigate } from "../router.js";
import { RowButton } from "../table.js";
import { ActionEditor } from "./action_editor.js";
import { ExtensionButtons } from "./extension_actions.js";

function DetailsTab({ extension, changed }) {
  const fields = fromApi("updateExtension", [
    { name: "description", label: "Description", help: null, wide: true },
    { name: "orchestratorrequirespreparevm", label: "Requires prepare instance",
      help: "Call the executable with 'prepare' before an instance's first start." },
    { name: "details", label: "Details", help: "Key/value pairs the executable receives with every call. Saving replaces them all." },
  ]);
  const transform = (params) => {
    const next = { ...params };
    if (!Object.keys(params.details || {}).length && Object.keys(extension.details || {}).length) next.cleanupdetails = true;
    return next;
  };
  return html`
    <div class="split">
      <${Card} title="About">
        <${Details} rows=${[
          ["Name", extension.name],
          ["State", html`<${StateBadge} state=${extension.state} />`],
          ["Ready", html`<${StateBadge} state=${extension.pathready ? "Ready" : "Not ready"} />
            ${!extension.pathready && html`<span class="muted sub">This server cannot run its executable: check that the file exists and is executable.</span>`}`],
          ["Type", extension.type],
          ["Entry point", html`<code class="path">${extension.path}</code>`],
          ["Kind", extension.isuserdefined ? "Added by an operator" : "Inbuilt"],
          ["Created", html`<${DateText} value=${extension.created} />`],
          ["ID", html`<code>${extension.id}</code>`],
        ]} />
      </${Card}>
      ${can("updateExtension") ? html`
        <${Card} title="Settings">
          <${ApiForm} command="updateExtension" fields=${fields} extra=${{ id: extension.id }} transform=${transform}
            idPrefix="extension" label=${`Update extension ${extension.name}`} submitLabel="Save changes"
            initial=${{ description: extension.description || "", orchestratorrequirespreparevm: Boolean(extension.orchestratorrequirespreparevm),
              details: rowsOf(extension.details) }}
            onDone=${changed} />
        </${Card}>` : html`<${Card} title="Details"><${MapTable} map=${extension.details} secret=${true} /></${Card}>`}
    </div>`;
}

function ResourcesTab({ extension, changed }) {
  const [open, setOpen] = useState(false);
  const [clusters, setClusters] = useState(null);
  useEffect(() => {
    listAll("listClusters", { hypervisor: "External" }).then(setClusters, () => setClusters([]));
  }, [extension.resources.length]);
  const free = (clusters || []).filter((cluster) => !cluster.extensionid);
  const unregister = async (resource) => {
    if (!await confirm({ title: `Unregister ${resource.name}?`, confirmLabel: "Unregister", danger: true,
      message: `The cluster's hosts can no longer run instances of ${extension.name}.` })) return;
    try {
      await run("unregisterExtension", { extensionid: extension.id, resourceid: resource.id, resourcetype: resource.type },
        { label: `Unregister ${resource.name} from ${extension.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  const fields = fromApi("registerExtension", [
    { name: "resourceid", label: "Cluster", type: "select", required: true, blank: "Choose a cluster",
      options: free.map((cluster) => [cluster.id, `${cluster.name} (${cluster.zonename} / ${cluster.podname})`]),
      help: "External clusters with no extension registered." },
    { name: "details", label: "Details for the extension", help: "Key/value pairs the executable receives for this cluster." },
  ]);
  return html`
    <${Card} title="Registered clusters" actions=${can("registerExtension") && html`<button type="button" class="primary small"
      onClick=${() => setOpen(true)} disabled=${clusters === null}>Register a cluster</button>`}>
      ${extension.resources.length === 0 ? html`<p class="muted">No cluster is registered: instances of this extension have nowhere to run.
        ${can("addCluster") && html` <a href="/clusters">Add an External cluster</a>, then register it here.`}</p>` : html`
        <div class="table-wrap"><table class="grid">
          <caption class="visually-hidden">Registered clusters</caption>
          <thead><tr><th scope="col">Cluster</th><th scope="col">Type</th><th scope="col">Details</th><th scope="col">Registered</th>
            <th scope="col" class="actions-col">Actions</th></tr></thead>
          <tbody>${extension.resources.map((resource) => html`<tr key=${resource.id} data-name=${resource.name}>
            <td class="primary-cell" data-label="Cluster"><a href=${`/hosts?clusterid=${resource.id}`}>${resource.name}</a></td>
            <td data-label="Type">${resource.type}</td>
            <td data-label="Details"><${MapTable} map=${resource.details} secret=${true} empty="—" /></td>
            <td data-label="Registered" class="nowrap"><${DateText} value=${resource.created} /></td>
            <td class="actions-cell" data-label="Actions">${can("unregisterExtension") && html`<${RowButton} label="Unregister"
              name=${resource.name} onClick=${() => unregister(resource)} />`}</td>
          </tr>`)}</tbody>
        </table></div>`}
    </${Card}>
    ${open && html`<${FormDialog} title=${`Register a cluster with ${extension.name}`} command="registerExtension" fields=${fields}
      extra=${{ extensionid: extension.id, resourcetype: "Cluster" }} submitLabel="Register"
      label=${`Register a cluster with ${extension.name}`} onClose=${() => setOpen(false)} onDone=${changed} />`}`;
}

function ActionsTab({ extension }) {
  const [actions, setActions] = useState(null);
  const [failure, setFailure] = useState("");
  const [editing, setEditing] = useState(null);
  const [tick, setTick] = useState(0);
  const reload = () => setTick((n) => n + 1);
  useEffect(() => {
    listAll("listCustomActions", { extensionid: extension.id }).then(setActions, (error) => setFailure(error.message));
  }, [extension.id, tick]);
  const toggle = async (action) => {
    try {
      await run("updateCustomAction", { id: action.id, enabled: !action.enabled },
        { label: `${action.enabled ? "Disable" : "Enable"} action ${action.name}` });
    } catch (_error) { /* listed */ }
    reload();
  };
  const remove = async (action) => {
    if (!await confirm({ title: `Delete action ${action.name}?`, confirmLabel: "Delete", danger: true,
      message: "Nobody can run it any more." })) return;
    try { await run("deleteCustomAction", { id: action.id }, { label: `Delete action ${action.name}` }); } catch (_error) { /* listed */ }
    reload();
  };
  if (failure) return html`<${Alert} kind="error">${failure}</${Alert}>`;
  return html`
    <${Card} title="Custom actions" actions=${can("addCustomAction") && html`<button type="button" class="primary small"
      onClick=${() => setEditing({})}>Add custom action</button>`}>
      ${actions === null ? html`<p class="loading" role="status">Loading…</p>` : actions.length === 0
        ? html`<p class="muted">No custom actions yet. Users run them on instances from the instance's Run Action tab.</p>` : html`
        <div class="table-wrap"><table class="grid">
          <caption class="visually-hidden">Custom actions</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Parameters</th><th scope="col">Who may run it</th>
            <th scope="col">Timeout</th><th scope="col" class="actions-col">Actions</th></tr></thead>
          <tbody>${actions.map((action) => html`<tr key=${action.id} data-name=${action.name}>
            <td class="primary-cell" data-label="Name"><span class="row-title">${action.name}</span>
              ${action.description && html`<span class="muted sub">${action.description}</span>`}</td>
            <td data-label="State"><${StateBadge} state=${action.enabled ? "Enabled" : "Disabled"} /></td>
            <td data-label="Parameters">${(action.parameters || []).length
              ? (action.parameters || []).map((param) => html`<code class="param-chip" title=${`${param.type}${param.validationformat !== "NONE" ? ` ${param.validationformat}` : ""}${param.required ? ", required" : ""}`}>${param.name}${param.required ? "*" : ""}</code> `)
              : html`<span class="muted">none</span>`}</td>
            <td data-label="Who may run it">${(action.allowedroletypes || []).join(", ")}</td>
            <td data-label="Timeout">${action.timeout} s</td>
            <td class="actions-cell" data-label="Actions"><div class="row-actions">
              ${can("updateCustomAction") && html`<${RowButton} label="Edit" name=${action.name} onClick=${() => setEditing({ action })} />
                <${RowButton} label=${action.enabled ? "Disable" : "Enable"} name=${action.name} onClick=${() => toggle(action)} />`}
              ${can("deleteCustomAction") && html`<${RowButton} label="Delete" name=${action.name} kind="danger-outline" onClick=${() => remove(action)} />`}
            </div></td>
          </tr>`)}</tbody>
        </table></div>`}
    </${Card}>
    ${editing && html`<${ActionEditor} extension=${extension} action=${editing.action} onClose=${() => setEditing(null)} onDone=${reload} />`}`;
}

export default function ExtensionPage({ params, query }) {
  const [extension, setExtension] = useState(undefined);
  const [tick, setTick] = useState(0);
  const changed = () => setTick((n) => n + 1);
  useEffect(() => {
    find("listExtensions", params.id, { details: "all" }).then(setExtension,
      (error) => setExtension(error.code === 431 ? null : (previous) => previous || null));
  }, [params.id, tick]);
  const crumbs = [["Extensions", "/extensions"]];
  if (extension === undefined) return html`<${Page} title="Extension" crumbs=${crumbs}><p class="loading" role="status">Loading…</p></${Page}>`;
  if (extension === null) return html`<${Missing} what="extension" back=${["Extensions", "/extensions"]} />`;
  const resources = extension.resources || [];
  return html`
    <${Page} title=${extension.name} crumbs=${crumbs}
      subtitle=${html`${!extension.isuserdefined && html`<span class="tag tag-muted">Inbuilt</span>`}
        <${StateBadge} state=${extension.state} /><${StateBadge} state=${extension.pathready ? "Ready" : "Not ready"} />
        ${extension.description && html`<span>${extension.description}</span>`}`}
      actions=${html`<div class="row-actions"><${ExtensionButtons} extension=${extension} changed=${changed}
        afterDelete=${() => navigate("/extensions")} /></div>`}>
      <${Tabs} label="Extension" current=${query.get("tab")} tabs=${[
        { id: "details", label: "Details", render: () => html`<${DetailsTab} extension=${extension} changed=${changed} />` },
        { id: "resources", label: "Resources", count: resources.length,
          render: () => html`<${ResourcesTab} extension=${{ ...extension, resources }} changed=${changed} />` },
        can("listCustomActions") && { id: "actions", label: "Custom actions", render: () => html`<${ActionsTab} extension=${extension} />` },
      ]} />
    </${Page}>`;
}
