// Enable, disable and delete an extension: shared by the list and the extension's page.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { run } from "../jobs.js";
import { html } from "../lib.js";
import { RowButton } from "../table.js";

export function ExtensionButtons({ extension, changed, afterDelete }) {
  const enabled = extension.state === "Enabled";
  const toggle = async () => {
    if (enabled && !await confirm({ title: `Disable ${extension.name}?`, confirmLabel: "Disable",
      message: "Its instances can no longer be started, stopped or acted on until it is enabled again." })) return;
    try {
      await run("updateExtension", { id: extension.id, state: enabled ? "Disabled" : "Enabled" },
        { label: `${enabled ? "Disable" : "Enable"} extension ${extension.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  const remove = async () => {
    const answer = await confirm({ title: `Delete extension ${extension.name}?`, confirmLabel: "Delete", danger: true,
      message: "Only an extension without clusters, custom actions and templates can be deleted.",
      options: [{ name: "cleanup", label: "Also delete its files", help: "Its directory under the extensions root and its payloads." }] });
    if (!answer) return;
    try {
      await run("deleteExtension", { id: extension.id, ...(answer.cleanup ? { cleanup: true } : {}) },
        { label: `Delete extension ${extension.name}` });
      if (afterDelete) { afterDelete(); return; }
    } catch (_error) { /* listed */ }
    changed();
  };
  return html`
    ${can("updateExtension") && html`<${RowButton} label=${enabled ? "Disable" : "Enable"} name=${extension.name} onClick=${toggle} />`}
    ${can("deleteExtension") && extension.isuserdefined && html`<${RowButton} label="Delete" name=${extension.name}
      kind="danger-outline" onClick=${remove} />`}`;
}
