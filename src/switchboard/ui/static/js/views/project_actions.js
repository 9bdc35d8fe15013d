// What can be done to a project in its state, shared by the projects list and the project page.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { run } from "../jobs.js";
import { html } from "../lib.js";
import { RowButton } from "../table.js";

/** The accounts that own (administer) a project: listProjects' `owner` [{account}]. */
export function ownersOf(project) {
  return (project.owner || []).map((owner) => owner.account).filter(Boolean);
}

async function operate(project, kind, changed, onDeleted) {
  const name = project.name;
  let params = { id: project.id };
  if (kind === "suspend" && !await confirm({ title: `Suspend project ${name}?`, confirmLabel: "Suspend",
    message: "Its running instances are stopped and nothing new can be made in it until it is activated again." })) return;
  if (kind === "delete") {
    const answer = await confirm({ title: `Delete project ${name}?`, confirmLabel: "Delete", danger: true,
      message: "Its key pairs and user data go with it. A project that still owns instances, networks or volumes cannot be deleted." });
    if (!answer) return;
    params = { ...params, cleanup: false };
  }
  const command = { suspend: "suspendProject", activate: "activateProject", delete: "deleteProject" }[kind];
  const verb = { suspend: "Suspend", activate: "Activate", delete: "Delete" }[kind];
  try {
    await run(command, params, { label: `${verb} project ${name}`, href: kind === "delete" ? "" : `/projects/${project.id}` });
    if (kind === "delete" && onDeleted) onDeleted();
  } catch (_error) { /* listed with the server's message */ }
  changed();
}

export function ProjectButtons({ project, changed, onDeleted }) {
  const button = (label, kind, command, extra = "") => can(command) && html`<${RowButton} label=${label} name=${project.name}
    action=${kind} kind=${extra} onClick=${() => operate(project, kind, changed, onDeleted)} />`;
  return html`
    ${project.state === "Active" && button("Suspend", "suspend", "suspendProject")}
    ${project.state === "Suspended" && button("Activate", "activate", "activateProject")}
    ${button("Delete", "delete", "deleteProject", "danger-outline")}`;
}
