// Projects: shared ownership. What is made in a project (instances, networks, key pairs, user data)
// belongs to the project's own account and its members use it together.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { projectsChanged } from "../projects.js";
import { navigate } from "../router.js";
import { ListView } from "../table.js";
import { ProjectButtons, ownersOf } from "./project_actions.js";
import { TagChips } from "./tags.js";

function createFields() {
  return fromApi("createProject", [
    { name: "name", label: "Name", help: null },
    { name: "displaytext", label: "Description", help: null },
  ]);
}

export default function Projects() {
  const [open, setOpen] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const add = can("createProject") && html`<button type="button" class="primary" onClick=${() => setOpen(true)}>New project</button>`;
  return html`
    <${Page} title="Projects" actions=${add}
      subtitle="Resources shared by a team: what is made in a project belongs to the project, and its members use it.">
      <${ListView} command="listProjects" label="Projects" reloadKey=${reloadKey} sort=${{ key: "name", dir: "asc" }}
        busy=${(project) => ["Creating", "Deleting"].includes(project.state)}
        empty=${html`No projects yet.${add ? " Start one to share instances and networks with others." : ""}`}
        filters=${[
          { param: "state", label: "State", options: ["Active", "Suspended"] },
          { param: "domainid", label: "Domain", related: "listDomains", relatedLabel: (domain) => domain.path || domain.name },
        ]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (project) => html`<a class="row-title" href=${`/projects/${project.id}`}>${project.name}</a>
            ${project.displaytext && project.displaytext !== project.name && html`<span class="muted sub">${project.displaytext}</span>`}` },
          { key: "state", label: "State", render: (project) => html`<${StateBadge} state=${project.state} />` },
          { key: "owner", label: "Owner", value: (project) => ownersOf(project).join(", "),
            render: (project) => ownersOf(project).join(", ") || html`<span class="muted">—</span>` },
          { key: "domain", label: "Domain", phone: false, when: () => can("listDomains") },
          { key: "tags", label: "Tags", sortable: false, phone: false, render: (project) => html`<${TagChips} tags=${project.tags} />` },
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (project) => html`<${DateText} value=${project.created} />` },
        ]}
        actions=${(project, changed) => html`<${ProjectButtons} project=${project} changed=${() => { projectsChanged(); changed(); }} />`} />
      ${open && html`<${FormDialog} title="New project" command="createProject" fields=${createFields()} submitLabel="Create project"
        label=${(values) => `Create project ${values.name}`} onClose=${() => setOpen(false)}
        onDone=${(result) => {
          projectsChanged();
          setReloadKey((n) => n + 1);
          const project = result && (result.project || result);
          if (project && project.id) navigate(`/projects/${project.id}`);
        }} />`}
    </${Page}>`;
}
