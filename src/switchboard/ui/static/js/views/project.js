// One project: its details and members, and what it owns (instances, volumes, networks, key pairs, user
// data), each list passing the project's id as CloudStack's UI does in a project's view.
import { can, find } from "../api.js";
import { DateText, StateBadge, ipOf } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Details, Missing, Page, Tabs } from "../page.js";
import { projectsChanged } from "../projects.js";
import { navigate } from "../router.js";
import { ListView } from "../table.js";
import { ProjectButtons, ownersOf } from "./project_actions.js";
import { TagsCard } from "./tags.js";
import { instanceHref } from "./vm_actions.js";
import { volumeColumns } from "./volumes.js";

function Members({ project }) {
  const owners = ownersOf(project);
  return html`<${Card} title="Members">
    <div class="table-wrap"><table class="grid" data-list="members">
      <caption class="visually-hidden">Members of ${project.name}</caption>
      <thead><tr><th scope="col">Account</th><th scope="col">Role in the project</th></tr></thead>
      <tbody>${owners.map((account) => html`<tr key=${account} data-name=${account}>
        <td class="primary-cell" data-label="Account"><span class="row-title">${account}</span></td>
        <td data-label="Role in the project"><span class="badge badge-ok">Admin</span></td></tr>`)}</tbody>
    </table></div>
    <p class="muted small-print">The account that created the project administers it. Resources made in the project
      belong to its own account, <code>${project.projectaccountname}</code>.</p>
  </${Card}>`;
}

function Overview({ project, changed }) {
  return html`<div class="split">
    <div class="stack">
      <${Card} title="Project">
        <${Details} rows=${[
          ["State", html`<${StateBadge} state=${project.state} />`],
          ["Name", project.name],
          ["Description", project.displaytext],
          ["Domain", project.domain],
          ["Created", html`<${DateText} value=${project.created} />`],
          ["ID", html`<code>${project.id}</code>`],
        ]} />
      </${Card}>
      <${TagsCard} resourceType="Project" resourceId=${project.id} tags=${project.tags} name=${project.name} changed=${changed} />
    </div>
    <${Members} project=${project} />
  </div>`;
}

function owned(project) {
  const params = { projectid: project.id };
  return [
    can("listVirtualMachines") && { id: "instances", label: "Instances", render: () => html`<${ListView} command="listVirtualMachines"
      label="Instances" params=${params} prefix="vm" empty="No instances in this project yet."
      columns=${[
        { key: "name", label: "Name", primary: true, value: (vm) => vm.displayname || vm.name,
          render: (vm) => html`<a class="row-title" href=${instanceHref(vm)}>${vm.displayname || vm.name}</a>` },
        { key: "state", label: "State", render: (vm) => html`<${StateBadge} state=${vm.state} />` },
        { key: "ipaddress", label: "IP address", value: ipOf, render: (vm) => ipOf(vm) || html`<span class="muted">—</span>` },
        { key: "templatename", label: "Template", phone: false },
        { key: "created", label: "Created", phone: false, render: (vm) => html`<${DateText} value=${vm.created} />` },
      ]} />` },
    can("listVolumes") && { id: "volumes", label: "Volumes", render: () => html`<${ListView} command="listVolumes" label="Volumes"
      params=${params} prefix="vol" empty="No volumes in this project." columns=${volumeColumns()} />` },
    can("listNetworks") && { id: "networks", label: "Networks", render: () => html`<${ListView} command="listNetworks" label="Networks"
      params=${params} prefix="net" empty="No networks in this project."
      columns=${[
        { key: "name", label: "Name", primary: true, render: (network) => html`<span class="row-title">${network.name}</span>` },
        { key: "state", label: "State", render: (network) => html`<${StateBadge} state=${network.state} />` },
        { key: "type", label: "Type" }, { key: "cidr", label: "CIDR" }, { key: "vlan", label: "VLAN", phone: false },
      ]} />` },
    can("listSSHKeyPairs") && { id: "sshkeys", label: "SSH key pairs", render: () => html`<${ListView} command="listSSHKeyPairs"
      label="SSH key pairs" params=${params} prefix="key" rowKey=${(pair) => pair.id || pair.name} empty="No key pairs in this project."
      columns=${[
        { key: "name", label: "Name", primary: true, render: (pair) => html`<span class="row-title">${pair.name}</span>` },
        { key: "fingerprint", label: "Fingerprint", render: (pair) => html`<code class="path">${pair.fingerprint}</code>` },
      ]} />` },
    can("listUserData") && { id: "userdata", label: "User data", render: () => html`<${ListView} command="listUserData" label="User data"
      params=${params} prefix="ud" empty="No user data in this project."
      columns=${[
        { key: "name", label: "Name", primary: true, render: (item) => html`<span class="row-title">${item.name}</span>` },
        { key: "params", label: "Variables", render: (item) => item.params || html`<span class="muted">—</span>` },
      ]} />` },
  ];
}

export default function ProjectPage({ params, query }) {
  const [project, setProject] = useState(undefined);
  const [failure, setFailure] = useState("");
  const [editing, setEditing] = useState(false);
  const [tick, setTick] = useState(0);
  const changed = () => { projectsChanged(); setTick((n) => n + 1); };
  useEffect(() => {
    let live = true;
    find("listProjects", params.id).then(
      (found) => { if (live) { setProject(found); setFailure(""); } },
      (error) => {
        if (!live) return;
        if (error.code === 431) { setProject(null); return; }
        setFailure(error.message);
        setProject((previous) => (previous === undefined ? null : previous));
      },
    );
    return () => { live = false; };
  }, [params.id, tick]);
  const crumbs = [["Projects", "/projects"]];
  if (project === undefined) return html`<${Page} title="Project" crumbs=${crumbs}><p class="loading" role="status">Loading the project…</p></${Page}>`;
  if (project === null) {
    return failure ? html`<${Page} title="Project" crumbs=${crumbs}><${Alert} kind="error">${failure}</${Alert}></${Page}>`
      : html`<${Missing} what="project" back=${["Projects", "/projects"]} />`;
  }
  const actions = html`<div class="row-actions">
    ${can("deployVirtualMachine") && project.state === "Active" && html`<a class="button primary small" href=${`/deploy?projectid=${project.id}`}>
      Deploy in this project</a>`}
    ${can("updateProject") && html`<button type="button" class="small" onClick=${() => setEditing(true)}>Edit</button>`}
    <${ProjectButtons} project=${project} changed=${changed} onDeleted=${() => navigate("/projects")} />
  </div>`;
  return html`
    <${Page} title=${project.name} crumbs=${crumbs} actions=${actions}
      subtitle=${html`<${StateBadge} state=${project.state} />${project.displaytext && html`<span>${project.displaytext}</span>`}`}>
      ${failure && html`<${Alert} kind="error">${failure}</${Alert}>`}
      <${Tabs} label="Project" current=${query.get("tab")} tabs=${[
        { id: "overview", label: "Overview", render: () => html`<${Overview} project=${project} changed=${changed} />` },
        ...owned(project),
      ]} />
      ${editing && html`<${FormDialog} title=${`Edit ${project.name}`} command="updateProject"
        fields=${fromApi("updateProject", [{ name: "name", label: "Name", help: null }, { name: "displaytext", label: "Description", help: null }])}
        extra=${{ id: project.id }} initial=${{ name: project.name, displaytext: project.displaytext || "" }}
        label=${`Edit project ${project.name}`} onClose=${() => setEditing(false)} onDone=${changed} />`}
    </${Page}>`;
}
