// User data: cloud-init (or any) scripts registered once and chosen at deploy time (CloudStack's
// registerUserData / listUserData / deleteUserData). The server keeps them base64-encoded; they are shown
// and typed here as text. `params` names the variables a deploy fills in (userdatadetails).
import { can } from "../api.js";
import { Dialog, confirm } from "../dialogs.js";
import { fromBase64, toBase64 } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { projectField, useProjects } from "../projects.js";
import { ListView, RowButton, accountColumn, projectFilter } from "../table.js";

const VARIABLE = /\{\{\s*ds\.meta_data\.([A-Za-z0-9_]+)\s*\}\}/g;

/** The variables a script uses as `{{ ds.meta_data.<name> }}` (Jinja, as cloud-init and CloudStack's UI). */
export function variablesIn(text) {
  return [...new Set([...String(text || "").matchAll(VARIABLE)].map((found) => found[1]))];
}

/** The variables a registered user data declares (its comma-separated `params`). */
export function paramsOf(userdata) {
  return String((userdata && userdata.params) || "").split(",").map((name) => name.trim()).filter(Boolean);
}

function registerFields(projects) {
  return fromApi("registerUserData", [
    { name: "name", label: "Name", help: null },
    { name: "userdata", label: "User data", type: "textarea", rows: 10, required: true,
      placeholder: "#cloud-config\nhostname: {{ ds.meta_data.hostname }}",
      help: "The script or cloud-config as text; it is sent base64-encoded.",
      validate: (value, values) => (values.isbase64 && !/^[A-Za-z0-9+/\s]+={0,2}\s*$/.test(value)
        ? "This is not base64: turn off “Already base64-encoded” to send it as text." : "") },
    { name: "isbase64", label: "Already base64-encoded", type: "switch", local: true,
      help: "Turn on when you paste base64 (binary user data, for example); it is then sent as it is." },
    { name: "params", label: "Variables", placeholder: "e.g. hostname, role",
      help: "Comma-separated names a deploy fills in; {{ ds.meta_data.<name> }} in the text is found for you." },
    projectField(projects),
  ]);
}

function ViewDialog({ userdata, onClose }) {
  const text = fromBase64(userdata.userdata);
  return html`<${Dialog} title=${`User data ${userdata.name}`} onClose=${onClose} wide=${true}>
    <div class="form">
      ${paramsOf(userdata).length > 0 && html`<p>Variables a deploy fills in:
        ${paramsOf(userdata).map((name) => html`<code class="param-chip" key=${name}>${name}</code>`)}</p>`}
      ${text === null ? html`<p class="muted">Binary content (base64):</p><pre class="output">${userdata.userdata}</pre>`
        : html`<pre class="output" data-userdata=${userdata.name}>${text}</pre>`}
      <div class="form-actions"><button type="button" class="primary" onClick=${onClose}>Close</button></div>
    </div>
  </${Dialog}>`;
}

export default function UserData() {
  const projects = useProjects();
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const remove = async (userdata, changed) => {
    if (!await confirm({ title: `Delete user data ${userdata.name}?`, confirmLabel: "Delete", danger: true,
      message: "Instances deployed with it keep what they were given. User data an instance still uses cannot be deleted." })) return;
    try { await run("deleteUserData", { id: userdata.id }, { label: `Delete user data ${userdata.name}` }); } catch (_error) { /* listed */ }
    changed();
  };
  const add = can("registerUserData") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "register" })}>
    Register user data</button>`;
  return html`
    <${Page} title="User data" actions=${add}
      subtitle="Scripts and cloud-config given to instances at deploy, with variables each deploy fills in.">
      <${ListView} command="listUserData" label="User data" reloadKey=${reloadKey} sort=${{ key: "name", dir: "asc" }}
        empty=${html`No user data yet.${add ? " Register a script to give it to new instances." : ""}`}
        filters=${[projectFilter()]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (item) => html`<span class="row-title">${item.name}</span>` },
          { key: "params", label: "Variables", sortable: false,
            render: (item) => (paramsOf(item).length ? html`<span class="chip-row">${paramsOf(item).map((name) => html`<code class="param-chip" key=${name}>${name}</code>`)}</span>`
              : html`<span class="muted">—</span>`) },
          { key: "userdata", label: "Starts with", sortable: false, phone: false, render: (item) => {
            const text = fromBase64(item.userdata);
            return text === null ? html`<span class="muted">binary</span>` : html`<code class="snippet">${text.split("\n")[0].slice(0, 60)}</code>`;
          } },
          { key: "project", label: "Project", phone: false, when: () => Boolean(projects && projects.length),
            render: (item) => item.project || html`<span class="muted">—</span>` },
          accountColumn(),
        ]}
        actions=${(item, changed) => html`
          <${RowButton} label="View" name=${item.name} onClick=${() => setDialog({ kind: "view", userdata: item })} />
          ${can("deleteUserData") && html`<${RowButton} label="Delete" name=${item.name} kind="danger-outline"
            onClick=${() => remove(item, changed)} />`}`} />
      ${dialog && dialog.kind === "register" && html`<${FormDialog} title="Register user data" wide=${true}
        command="registerUserData" fields=${registerFields(projects)} submitLabel="Register"
        transform=${(params, values) => {
          const found = variablesIn(values.userdata);
          const named = String(values.params || "").split(",").map((name) => name.trim()).filter(Boolean);
          const all = [...new Set([...named, ...found])];
          return { ...params, userdata: values.isbase64 ? values.userdata.replace(/\s+/g, "") : toBase64(values.userdata),
            params: all.length ? all.join(",") : undefined };
        }}
        label=${(values) => `Register user data ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "view" && html`<${ViewDialog} userdata=${dialog.userdata} onClose=${close} />`}
    </${Page}>`;
}
