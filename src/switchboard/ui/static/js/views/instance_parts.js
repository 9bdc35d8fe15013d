// Parts of the instance page, kept apart from its frame: the access card (key pairs and user data), the
// edit dialog (updateVirtualMachine), the volumes tab, and the snapshots tab — shown where the instance's
// extension offers CloudStack's snapshot actions (ListSnapshots, CreateSnapshot, RestoreSnapshot,
// DeleteSnapshot), as the built-in Proxmox, Hyper-V and Firecracker extensions do.
import { call, can, find, listAll } from "../api.js";
import { Dialog, confirm } from "../dialogs.js";
import { DateText, fromBase64, parseDate, parseMapText, plainOf } from "../format.js";
import { ApiForm, FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Details, MapTable } from "../page.js";
import { ListView, RowButton } from "../table.js";
import { parameterField } from "./run_action.js";
import { volumeColumns } from "./volumes.js";
import { nameOf } from "./vm_actions.js";

/**
 * The instance `id`, or null when the session sees none. CloudStack lists a project's instances only with
 * the project's id: the page's `projectid` (from the link) is tried first, then each of the session's
 * projects, so a bare link to a project's instance works too.
 */
export async function findInstance(id, projectid) {
  const found = await find("listVirtualMachines", id, projectid ? { projectid } : {});
  if (found || !can("listProjects")) return found;
  const projects = await listAll("listProjects").catch(() => []);
  for (const project of projects.filter((item) => item.id !== projectid)) {
    const owned = await find("listVirtualMachines", id, { projectid: project.id });
    if (owned) return owned;
  }
  return null;
}

/** The custom actions the session may run on `vm` (null while loading); [] where there are none. */
export function useInstanceActions(vm) {
  const [actions, setActions] = useState(null);
  const external = vm && vm.hypervisor === "External";
  useEffect(() => {
    if (!external || !can("listCustomActions")) { setActions([]); return undefined; }
    let live = true;
    listAll("listCustomActions", { resourcetype: "VirtualMachine", resourceid: vm.id, enabled: true })
      .then((found) => { if (live) setActions(found); }, () => { if (live) setActions([]); });
    return () => { live = false; };
  }, [vm && vm.id, external]);
  return actions;
}

/** The extension's snapshot actions for the instance, by role; `list` is needed for the tab to show. */
export function snapshotActions(actions) {
  const named = (name) => (actions || []).find((action) => action.name === name);
  return { list: named("ListSnapshots"), create: named("CreateSnapshot"), restore: named("RestoreSnapshot"),
    remove: named("DeleteSnapshot") };
}

function UserDataDialog({ vm, onClose }) {
  const [state, setState] = useState({ text: null, raw: "", error: "" });
  useEffect(() => {
    call("getVirtualMachineUserData", { virtualmachineid: vm.id }).then(
      (reply) => {
        const raw = ((reply.virtualmachineuserdata || reply).userdata) || "";
        setState({ text: fromBase64(raw), raw, error: "" });
      },
      (error) => setState({ text: null, raw: "", error: error.message }),
    );
  }, [vm.id]);
  const loading = state.text === null && !state.raw && !state.error;
  return html`<${Dialog} title=${`User data of ${nameOf(vm)}`} onClose=${onClose} wide=${true}>
    <div class="form">
      ${state.error && html`<${Alert} kind="error">${state.error}</${Alert}>`}
      ${loading ? html`<p class="loading" role="status">Loading the user data…</p>`
        : !state.error && (state.raw === "" ? html`<p class="muted">This instance was given no user data.</p>`
          : state.text === null ? html`<p class="muted">Binary content (base64):</p><pre class="output">${state.raw}</pre>`
            : html`<pre class="output" id="instance-userdata">${state.text}</pre>`)}
      <div class="form-actions"><button type="button" class="primary" onClick=${onClose}>Close</button></div>
    </div>
  </${Dialog}>`;
}

/** What the guest was given: SSH key pairs and user data (registered, or text), with a view of the latter. */
export function AccessCard({ vm }) {
  const [viewing, setViewing] = useState(false);
  const keys = String(vm.keypairs || "").split(",").map((name) => name.trim()).filter(Boolean);
  const variables = parseMapText(vm.userdatadetails);
  return html`<${Card} title="Access" className="access-card"
    actions=${can("getVirtualMachineUserData") && html`<button type="button" class="small" onClick=${() => setViewing(true)}>View user data</button>`}>
    <${Details} rows=${[
      ["SSH key pairs", keys.length ? html`<span class="chip-row">${keys.map((key) => html`<a class="tag tag-chip" key=${key}
        href=${`/sshkeys?q=${encodeURIComponent(key)}`}>${key}</a>`)}</span>` : ""],
      ["User data", vm.userdataname ? html`<a href=${`/userdata?q=${encodeURIComponent(vm.userdataname)}`}>${vm.userdataname}</a>`
        : vm.userdataid ? vm.userdataid : ""],
      Object.keys(variables).length > 0 && ["User data variables", html`<${MapTable} map=${variables} />`],
    ]} />
    ${viewing && html`<${UserDataDialog} vm=${vm} onClose=${() => setViewing(false)} />`}
  </${Card}>`;
}

// Details the server keeps itself (the deploy's record and the key pairs' public keys): not edited here.
const OWN_DETAILS = /^(SSH\.|deployvm$)/;

/** The instance's details other than the extension's and those the server keeps (shown in the access card). */
export function otherDetails(vm) {
  return Object.fromEntries(Object.entries(plainOf(vm.details)).filter(([key]) => !OWN_DETAILS.test(key)));
}

/** updateVirtualMachine: display name, host name (taken at the next start) and details (merged in). */
export function EditInstanceDialog({ vm, onClose, onDone }) {
  const kept = Object.keys(otherDetails(vm));
  return html`<${FormDialog} title=${`Edit ${nameOf(vm)}`} command="updateVirtualMachine"
    fields=${fromApi("updateVirtualMachine", [
      { name: "displayname", label: "Display name", help: "Shown instead of the name." },
      { name: "name", label: "Name", help: "The host name: the guest takes it when the instance is next started.",
        pattern: "[A-Za-z](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?",
        patternMessage: "Use letters, digits and '-', start with a letter and do not end with '-' (at most 63)." },
      { name: "details", label: "Details", type: "map",
        help: kept.length ? `Added to the instance's details, or changing their values (it has ${kept.join(", ")}).`
          : "Added to the instance's details, or changing their values." },
    ])}
    extra=${{ id: vm.id }} initial=${{ displayname: vm.displayname || "", name: vm.name }}
    transform=${(params) => (params.name === vm.name ? { ...params, name: undefined } : params)}
    label=${`Edit ${nameOf(vm)}`} href=${`/instances/${vm.id}`} onClose=${onClose} onDone=${onDone} />`;
}

export function VolumesTab({ vm }) {
  const params = { virtualmachineid: vm.id, ...(vm.projectid ? { projectid: vm.projectid } : {}) };
  // Reloaded when the instance changes state (a deploy's volumes appear as its job goes on).
  return html`<${ListView} command="listVolumes" label="Volumes" params=${params} search=${false} prefix="vol" reloadKey=${vm.state}
    empty="This instance has no volumes." sort=${{ key: "deviceid", dir: "asc" }} columns=${volumeColumns({ withInstance: false })} />`;
}

/** The parameter of a snapshot action that names the snapshot (snap_name, snapshot_name…). */
function nameParam(action) {
  const params = (action && action.parameters) || [];
  return (params.find((param) => /name/i.test(param.name)) || params[0] || {}).name;
}

async function runAction(vm, action, parameters, label) {
  const reply = await run("runCustomAction", { customactionid: action.id, resourceid: vm.id, resourcetype: "VirtualMachine",
    parameters }, { label, href: `/instances/${vm.id}?tab=snapshots` });
  const result = reply && reply.customactionresult;
  if (result && result.success === false) throw new Error((result.result && (result.result.message || result.result.details)) || `${action.name} failed`);
  return result;
}

function TakeSnapshotDialog({ vm, action, onClose, onDone }) {
  const fields = (action.parameters || []).map(parameterField).map((field) => ({ ...field, label: field.labelText }));
  return html`<${Dialog} title=${`Take a snapshot of ${nameOf(vm)}`} onClose=${onClose} wide=${fields.length > 2}>
    <${ApiForm} command="runCustomAction" fields=${fields} submitLabel="Take snapshot" idPrefix="snapshot"
      intro=${action.description || "The extension snapshots the instance on its hypervisor."}
      extra=${{ customactionid: action.id, resourceid: vm.id, resourcetype: "VirtualMachine" }}
      transform=${(params) => {
        const parameters = {};
        for (const field of fields) {
          if (params[field.name] === undefined) continue;
          parameters[field.name] = field.type === "switch" ? String(Boolean(params[field.name])) : params[field.name];
          delete params[field.name];
        }
        return { ...params, parameters };
      }}
      label=${`Snapshot ${nameOf(vm)}`} href=${`/instances/${vm.id}?tab=snapshots`}
      onCancel=${onClose} onDone=${(result) => { onClose(); onDone(result); }} />
  </${Dialog}>`;
}

/** The instance's snapshots (listVMSnapshot runs the extension's ListSnapshots) and what can be done with them. */
export function SnapshotsTab({ vm, actions }) {
  const { create, restore, remove } = snapshotActions(actions);
  const [taking, setTaking] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const [failure, setFailure] = useState("");
  const reload = () => setReloadKey((n) => n + 1);
  const operate = async (snapshot, action, verb, question) => {
    setFailure("");
    if (!await confirm(question)) return;
    try {
      await runAction(vm, action, { [nameParam(action)]: snapshot.name }, `${verb} ${nameOf(vm)}: ${snapshot.name}`);
    } catch (error) {
      setFailure(error.message);
    }
    reload();
  };
  return html`
    ${failure && html`<${Alert} kind="error">${failure}</${Alert}>`}
    <${ListView} command="listVMSnapshot" label="Snapshots" params=${{ virtualmachineid: vm.id }} prefix="snap" reloadKey=${reloadKey}
      rowKey=${(snapshot) => snapshot.id} sort=${{ key: "created", dir: "desc" }}
      empty=${html`No snapshots of this instance.${create ? " Take one to come back to this point later." : ""}`}
      toolbar=${create && can("runCustomAction") && html`<button type="button" class="primary" disabled=${vm.state !== "Running" && vm.state !== "Stopped"}
        onClick=${() => setTaking(true)}>Take snapshot</button>`}
      columns=${[
        { key: "name", label: "Name", primary: true, render: (snapshot) => html`<span class="row-title">${snapshot.name}</span>
          ${snapshot.current && html`<span class="tag">Current</span>`}
          ${snapshot.description && html`<span class="muted sub">${snapshot.description}</span>`}` },
        { key: "type", label: "Kind", render: (snapshot) => (snapshot.type === "DiskAndMemory" ? "Disk and memory" : "Disk") },
        { key: "parentName", label: "Parent", phone: false, render: (snapshot) => snapshot.parentName || html`<span class="muted">—</span>` },
        { key: "created", label: "Taken", className: "nowrap", value: (snapshot) => (parseDate(snapshot.created) || new Date(0)).getTime(),
          render: (snapshot) => (parseDate(snapshot.created) ? html`<${DateText} value=${snapshot.created} />` : snapshot.created || "") },
      ]}
      actions=${(restore || remove) && can("runCustomAction") && ((snapshot) => html`
        ${restore && html`<${RowButton} label="Revert" name=${snapshot.name} onClick=${() => operate(snapshot, restore, "Revert",
          { title: `Revert ${nameOf(vm)} to ${snapshot.name}?`, confirmLabel: "Revert", danger: true,
            message: "The instance goes back to the snapshot: what changed since is lost." })} />`}
        ${remove && html`<${RowButton} label="Delete" name=${snapshot.name} kind="danger-outline" onClick=${() => operate(snapshot, remove,
          "Delete snapshot", { title: `Delete snapshot ${snapshot.name}?`, confirmLabel: "Delete", danger: true,
            message: "The snapshot is removed from the hypervisor." })} />`}`)} />
    ${taking && html`<${TakeSnapshotDialog} vm=${vm} action=${create} onClose=${() => setTaking(false)} onDone=${reload} />`}`;
}
