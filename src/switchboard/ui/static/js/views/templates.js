// Templates: the images instances are deployed from. External templates belong to an extension and are
// ready at once (nothing is downloaded); their external details go to the extension.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, StateBadge, externalOf } from "../format.js";
import { FormDialog, fromApi, rowsOf } from "../forms.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton, accountColumn } from "../table.js";

const FILTERS = [["executable", "Deployable"], ["featured", "Featured"], ["self", "Mine"], ["community", "Community"],
  ["all", "All (admin)"]];
const ARCHES = [["x86_64", "x86_64"], ["aarch64", "aarch64"]];

function registerFields() {
  return fromApi("registerTemplate", [
    { name: "name", label: "Name", help: null },
    { name: "displaytext", label: "Description", help: "Shown under the name when deploying." },
    { name: "zoneid", label: "Zone", required: true, type: "picker", related: "listZones", help: "Where the template can be deployed." },
    { name: "extensionid", label: "Extension", required: true, help: "The extension that runs instances of this template.",
      relatedParams: {} },
    { name: "hypervisor", label: "Hypervisor", type: "select", options: ["External"], initial: "External", help: null,
      required: true },
    { name: "format", label: "Format", type: "select", options: ["EXTERNAL"], initial: "EXTERNAL", help: null, required: true },
    { name: "url", label: "URL", initial: "http://external.invalid/template",
      help: "Nothing is downloaded for External templates; any URL will do. The extension reads its own details." },
    { name: "ostypeid", label: "OS type", blank: "(not set)", relatedLabel: (item) => item.description || item.name, help: null },
    { name: "arch", label: "Architecture", type: "select", options: ARCHES, initial: "x86_64", help: null },
    { name: "externaldetails", label: "Details for the extension", itemLabel: "detail",
      help: "Key/value pairs the extension receives with every instance of this template." },
    { name: "ispublic", label: "Public", help: "Every account may deploy it." },
    { name: "isfeatured", label: "Featured", help: "Listed first when deploying." },
    { name: "passwordenabled", label: "Password enabled", help: "The image can take a generated password." },
  ]);
}

function editFields() {
  return fromApi("updateTemplate", [
    { name: "name", label: "Name" }, { name: "displaytext", label: "Description" },
    { name: "ostypeid", label: "OS type", blank: "(unchanged)", relatedLabel: (item) => item.description || item.name },
    { name: "externaldetails", label: "Details for the extension", help: "Replaces the template's external details." },
  ]);
}

function permissionFields() {
  return fromApi("updateTemplatePermissions", [
    { name: "ispublic", label: "Public", help: "Every account may deploy it." },
    { name: "isfeatured", label: "Featured", help: "Listed first when deploying." },
    { name: "isextractable", label: "Extractable", help: "Users may download it." },
  ]);
}

export default function Templates() {
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);

  const remove = async (template, changed) => {
    const answer = await confirm({ title: `Delete template ${template.name}?`, confirmLabel: "Delete", danger: true,
      message: "Instances deployed from it keep running; no new ones can be deployed from it." });
    if (!answer) return;
    try {
      await run("deleteTemplate", { id: template.id }, { label: `Delete template ${template.name}` });
    } catch (_error) { /* shown in the notification list */ }
    changed();
  };

  const register = can("registerTemplate") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "register" })}>
    Register template</button>`;

  return html`
    <${Page} title="Templates" actions=${register}>
      <${ListView} command="listTemplates" label="Templates" reloadKey=${reloadKey}
        filters=${[
          { param: "templatefilter", label: "Show", options: can("listHosts") ? FILTERS : FILTERS.slice(0, 4),
            initial: can("listHosts") ? "all" : "executable" },
          { param: "zoneid", label: "Zone", related: "listZones" },
          can("listExtensions") && { param: "extensionid", label: "Extension", related: "listExtensions" },
        ].filter(Boolean)}
        empty="No templates yet."
        columns=${[
          { key: "name", label: "Name", primary: true, render: (template) => html`<span class="row-title">${template.name}</span>
            ${template.isfeatured && html`<span class="tag">Featured</span>`}
            ${template.ispublic && html`<span class="tag tag-muted">Public</span>`}
            ${template.displaytext && template.displaytext !== template.name && html`<span class="muted sub">${template.displaytext}</span>`}` },
          { key: "extensionname", label: "Extension", render: (template) => template.extensionname || html`<span class="muted">—</span>` },
          { key: "status", label: "Status", render: (template) => html`<${StateBadge} state=${template.isready ? "Ready" : "Not ready"} />` },
          { key: "zonename", label: "Zone", phone: false, laptop: false },
          { key: "format", label: "Format", phone: false, laptop: false, render: (template) => `${template.format} · ${template.hypervisor}` },
          accountColumn(),
          { key: "created", label: "Created", phone: false, className: "nowrap", render: (template) => html`<${DateText} value=${template.created} />` },
        ]}
        actions=${(template, changed) => html`
          ${can("updateTemplate") && html`<${RowButton} label="Edit" name=${template.name} onClick=${() => setDialog({ kind: "edit", template })} />`}
          ${can("updateTemplatePermissions") && html`<${RowButton} label="Permissions" name=${template.name}
            onClick=${() => setDialog({ kind: "permissions", template })} />`}
          ${can("deleteTemplate") && html`<${RowButton} label="Delete" name=${template.name} kind="danger-outline"
            onClick=${() => remove(template, changed)} />`}`} />
      ${dialog && dialog.kind === "register" && html`<${FormDialog} title="Register a template" wide=${true} command="registerTemplate"
        fields=${registerFields()} submitLabel="Register" label=${(values) => `Register template ${values.name}`}
        onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "edit" && html`<${FormDialog} title=${`Edit ${dialog.template.name}`} command="updateTemplate"
        fields=${editFields()} extra=${{ id: dialog.template.id }} label=${`Edit template ${dialog.template.name}`}
        initial=${{ name: dialog.template.name, displaytext: dialog.template.displaytext, externaldetails: rowsOf(externalOf(dialog.template.details)) }}
        onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "permissions" && html`<${FormDialog} title=${`Permissions of ${dialog.template.name}`}
        command="updateTemplatePermissions" fields=${permissionFields()} extra=${{ id: dialog.template.id }}
        label=${`Permissions of ${dialog.template.name}`}
        initial=${{ ispublic: Boolean(dialog.template.ispublic), isfeatured: Boolean(dialog.template.isfeatured),
          isextractable: Boolean(dialog.template.isextractable) }}
        onClose=${close} onDone=${reload} />`}
    </${Page}>`;
}
