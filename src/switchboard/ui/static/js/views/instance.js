// One instance: its state (followed while it changes or a job on it runs), where it runs, its NICs,
// volumes and events, the lifecycle buttons, Run Action and the console.
import { can } from "../api.js";
import { DateText, StateBadge, externalOf, ipOf, mebibytes } from "../format.js";
import { useNotifications } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Details, MapTable, Missing, Page, Tabs } from "../page.js";
import { ListView } from "../table.js";
import { Console } from "./instance_console.js";
import {
  AccessCard, EditInstanceDialog, SnapshotsTab, VolumesTab, findInstance, otherDetails, snapshotActions, useInstanceActions,
} from "./instance_parts.js";
import { RunAction } from "./run_action.js";
import { TagsCard } from "./tags.js";
import { TRANSITIONAL, VmButtons, nameOf } from "./vm_actions.js";

function Overview({ vm, changed }) {
  const admin = can("listHosts");
  const [editing, setEditing] = useState(false);
  const editable = can("updateVirtualMachine") && !["Destroyed", "Expunging", "Error"].includes(vm.state);
  return html`
    <div class="split">
      <div class="stack">
      <${Card} title="Instance" actions=${editable && html`<button type="button" class="small" onClick=${() => setEditing(true)}
        aria-label=${`Edit ${vm.displayname || vm.name}`}>Edit</button>`}>
        <${Details} rows=${[
          ["State", html`<${StateBadge} state=${vm.state} />`],
          ["Power state", vm.powerstate],
          ["Name", vm.name],
          ["Display name", vm.displayname],
          admin && ["Internal name", html`<code>${vm.instancename}</code>`],
          ["IP address", ipOf(vm)],
          ["Template", vm.templatename],
          ["Offering", vm.serviceofferingname && `${vm.serviceofferingname} · ${vm.cpunumber} vCPU${vm.cpuspeed ? ` × ${vm.cpuspeed} MHz` : ""} · ${mebibytes(vm.memory)}`],
          ["Created", html`<${DateText} value=${vm.created} />`],
          ["Account", vm.account && `${vm.account}${vm.domain ? ` (${vm.domain})` : ""}`],
          vm.project && ["Project", vm.projectid ? html`<a href=${`/projects/${vm.projectid}`}>${vm.project}</a>` : vm.project],
        ]} />
      </${Card}>
      <${TagsCard} resourceType="UserVm" resourceId=${vm.id} tags=${vm.tags} name=${vm.displayname || vm.name} changed=${changed} />
      </div>
      <div class="stack">
      <${Card} title="Placement">
        <${Details} rows=${[
          ["Zone", vm.zonename],
          admin && ["Host", vm.hostname && html`<a href=${`/hosts?q=${encodeURIComponent(vm.hostname)}`}>${vm.hostname}</a>`],
          ["Hypervisor", vm.hypervisor],
          ["Extension", vm.extensionname && (can("listExtensions") ? html`<a href=${`/extensions/${vm.extensionid}`}>${vm.extensionname}</a>` : vm.extensionname)],
          ["Architecture", vm.arch],
          ["Last updated", html`<${DateText} value=${vm.lastupdated} />`],
          ["Details for the extension", html`<${MapTable} map=${externalOf(vm.details)} secret=${true} />`],
          Object.keys(otherDetails(vm)).length > 0 && ["Other details", html`<${MapTable} map=${otherDetails(vm)} />`],
        ]} />
      </${Card}>
      <${AccessCard} vm=${vm} />
      </div>
      ${editing && html`<${EditInstanceDialog} vm=${vm} onClose=${() => setEditing(false)} onDone=${changed} />`}
    </div>`;
}

function Nics({ vm }) {
  const nics = vm.nic || [];
  if (!nics.length) return html`<p class="empty">This instance has no network interfaces.</p>`;
  return html`
    <div class="table-wrap"><table class="grid">
      <caption class="visually-hidden">Network interfaces</caption>
      <thead><tr><th scope="col">Network</th><th scope="col">IP address</th><th scope="col">MAC address</th>
        <th scope="col">Gateway</th><th scope="col">Netmask</th><th scope="col">Type</th><th scope="col">Default</th></tr></thead>
      <tbody>${nics.map((nic) => html`<tr key=${nic.id}>
        <td class="primary-cell" data-label="Network">${nic.networkname}</td>
        <td data-label="IP address">${nic.ipaddress}</td>
        <td data-label="MAC address"><code>${nic.macaddress}</code></td>
        <td data-label="Gateway">${nic.gateway}</td>
        <td data-label="Netmask">${nic.netmask}</td>
        <td data-label="Type">${nic.type}${nic.broadcasturi ? html`<span class="muted sub">${nic.broadcasturi}</span>` : ""}</td>
        <td data-label="Default">${nic.isdefault ? "Yes" : "No"}</td>
      </tr>`)}</tbody>
    </table></div>`;
}

function Events({ vm }) {
  return html`<${ListView} command="listEvents" label="Events" params=${{ resourceid: vm.id }} search=${false} prefix="ev"
    empty="No events for this instance yet." sort=${{ key: "created", dir: "desc" }}
    columns=${[
      { key: "level", label: "Level", render: (event) => html`<${StateBadge} state=${event.level} />` },
      { key: "type", label: "Type", className: "nowrap" },
      { key: "description", label: "Description", primary: true },
      { key: "username", label: "By" },
      { key: "created", label: "When", className: "nowrap", render: (event) => html`<${DateText} value=${event.created} />` },
    ]} />`;
}

export default function InstancePage({ params, query }) {
  const [vm, setVm] = useState(undefined);
  const [failure, setFailure] = useState("");
  const [tick, setTick] = useState(0);
  const notes = useNotifications();
  const actions = useInstanceActions(vm);
  const href = `/instances/${params.id}`;
  const jobs = notes.filter((note) => note.state === "running" && note.href && note.href.split("?")[0] === href);
  const finished = notes.filter((note) => note.state !== "running" && note.href && note.href.split("?")[0] === href).length;

  useEffect(() => {
    let live = true;
    findInstance(params.id, query.get("projectid") || (vm && vm.projectid) || "").then(
      (found) => { if (live) { setVm(found); setFailure(""); } },
      (error) => {
        if (!live) return;
        // A malformed id is no instance at all; other failures keep what is shown and say why.
        if (error.code === 431) { setVm(null); return; }
        setFailure(error.message);
        setVm((previous) => (previous === undefined ? null : previous));
      },
    );
    return () => { live = false; };
  }, [params.id, tick, finished]);

  const following = (vm && TRANSITIONAL.includes(vm.state)) || jobs.length > 0;
  useEffect(() => {
    if (!following) return undefined;
    const timer = setTimeout(() => setTick((n) => n + 1), 1500);
    return () => clearTimeout(timer);
  }, [following, tick]);

  if (vm === undefined) return html`<${Page} title="Instance" crumbs=${[["Instances", "/instances"]]}><p class="loading" role="status">Loading the instance…</p></${Page}>`;
  if (vm === null) return failure ? html`<${Page} title="Instance" crumbs=${[["Instances", "/instances"]]}><${Alert} kind="error">${failure}</${Alert}></${Page}>`
    : html`<${Missing} what="instance" back=${["Instances", "/instances"]} />`;

  const changed = () => setTick((n) => n + 1);
  const external = vm.hypervisor === "External";
  return html`
    <${Page} title=${nameOf(vm)} crumbs=${[["Instances", "/instances"]]} className="instance-page"
      subtitle=${html`<${StateBadge} state=${vm.state} /><span>${vm.zonename}</span>${vm.hostname && html`<span>· ${vm.hostname}</span>`}`}
      actions=${html`<div class="row-actions"><${VmButtons} vm=${vm} changed=${changed} withRunAction=${false} /></div>`}>
      ${jobs.map((job) => html`<div class="alert alert-info job-banner" role="status" key=${job.key}>
        <span class="dot" aria-hidden="true"></span><span>${job.label}: in progress…</span></div>`)}
      ${failure && html`<${Alert} kind="error">${failure}</${Alert}>`}
      <${Tabs} label="Instance" current=${query.get("tab")} tabs=${[
        { id: "overview", label: "Overview", render: () => html`<${Overview} vm=${vm} changed=${changed} />` },
        { id: "nics", label: "NICs", count: (vm.nic || []).length, render: () => html`<${Nics} vm=${vm} />` },
        can("listVolumes") && { id: "volumes", label: "Volumes", render: () => html`<${VolumesTab} vm=${vm} />` },
        snapshotActions(actions).list && can("listVMSnapshot") &&
          { id: "snapshots", label: "Snapshots", render: () => html`<${SnapshotsTab} vm=${vm} actions=${actions} />` },
        can("listEvents") && { id: "events", label: "Events", render: () => html`<${Events} vm=${vm} />` },
        external && can("runCustomAction", "listCustomActions") && !["Destroyed", "Expunging"].includes(vm.state) &&
          { id: "action", label: "Run Action", render: () => html`<${RunAction} vm=${vm} />` },
        external && (can("createConsoleEndpoint") || can("runCustomAction", "listCustomActions")) &&
          !["Destroyed", "Expunging"].includes(vm.state) &&
          { id: "console", label: "Console", render: () => html`<${Console} vm=${vm} />` },
      ]} />
    </${Page}>`;
}
