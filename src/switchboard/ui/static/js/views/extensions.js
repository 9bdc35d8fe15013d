// Extensions: the executables that run instances on external systems. Built-in ones come with the server
// ("Inbuilt"); operators add their own. Ready means this server can run the executable.
import { can } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { navigate } from "../router.js";
import { ListView } from "../table.js";
import { ExtensionButtons } from "./extension_actions.js";

// The server's path rules: relative to the extensions directory, inside the extension's own directory,
// no '..', at most two sub-directories below it.
function pathProblem(path) {
  const parts = path.trim().replace(/\\/g, "/").replace(/^\/+/, "").split("/");
  if (parts.includes("..")) return "The path must not contain '..'.";
  if (parts.length > 4) return "At most two sub-directories below the extension's directory.";
  return "";
}

export function createFields() {
  return fromApi("createExtension", [
    { name: "name", label: "Name", help: "Unique. Its directory under the extensions root is this name in lower case (other characters than letters, digits, '.', '_' and '-' become '_')." },
    { name: "description", label: "Description", help: null },
    { name: "type", label: "Type", type: "select", options: [["Orchestrator", "Orchestrator (runs instances)"]], initial: "Orchestrator", help: null },
    { name: "path", label: "Entry point", placeholder: "e.g. mycloud.py",
      help: "The executable, relative to the extension's directory. Left empty: <name>/<name>.sh, created from a working scaffold.",
      validate: pathProblem },
    { name: "orchestratorrequirespreparevm", label: "Requires prepare instance",
      help: "Call the executable with 'prepare' before an instance's first start, so it can fill in details such as MAC addresses." },
    { name: "details", label: "Details", help: "Key/value pairs the executable receives with every call (externaldetails.extension), e.g. an endpoint and credentials." },
    { name: "enabled", label: "Enabled", type: "switch", local: true, initial: true, help: "A disabled extension runs nothing." },
  ]);
}

export default function Extensions() {
  const [open, setOpen] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const add = can("createExtension") && html`<button type="button" class="primary" onClick=${() => setOpen(true)}>Create extension</button>`;
  return html`
    <${Page} title="Extensions" actions=${add}>
      <${ListView} command="listExtensions" label="Extensions" reloadKey=${reloadKey} params=${{ details: "min" }}
        empty="No extensions yet." sort=${{ key: "name", dir: "asc" }}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (extension) => html`<a class="row-title" href=${`/extensions/${extension.id}`}
              title=${extension.description}>${extension.name}</a>
            ${!extension.isuserdefined && html`<span class="tag tag-muted">Inbuilt</span>`}
            <code class="sub path-sub" title=${extension.path}>${extension.path.replace(/^.*\/extensions\//, "")}</code>` },
          { key: "state", label: "State", render: (extension) => html`<${StateBadge} state=${extension.state} />` },
          { key: "pathready", label: "Ready", value: (extension) => (extension.pathready ? 0 : 1),
            render: (extension) => html`<${StateBadge} state=${extension.pathready ? "Ready" : "Not ready"} />` },
          { key: "type", label: "Type", phone: false },
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (extension) => html`<${DateText} value=${extension.created} />` },
        ]}
        actions=${(extension, changed) => html`<${ExtensionButtons} extension=${extension} changed=${changed} />`} />
      ${open && html`<${FormDialog} title="Create an extension" wide=${true} command="createExtension" fields=${createFields()}
        transform=${(params, values) => ({ ...params, state: values.enabled ? "Enabled" : "Disabled" })} submitLabel="Create extension"
        label=${(values) => `Create extension ${values.name}`} onClose=${() => setOpen(false)}
        onDone=${(reply) => { setReloadKey((n) => n + 1); if (reply && reply.extension) navigate(`/extensions/${reply.extension.id}`); }} />`}
    </${Page}>`;
}
