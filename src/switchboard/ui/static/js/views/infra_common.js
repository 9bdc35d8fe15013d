// Pieces the infrastructure pages share: enable/disable by allocation state, delete with a question.
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { run } from "../jobs.js";
import { html } from "../lib.js";
import { RowButton } from "../table.js";

/** Enable or Disable (`command` with allocationstate) for a zone, pod or cluster; `what` names it. */
export function AllocationButton({ item, command, what, name = item.name, changed }) {
  if (!can(command)) return null;
  const enabled = item.allocationstate === "Enabled";
  const toggle = async () => {
    if (enabled && !await confirm({ title: `Disable ${what} ${name}?`, confirmLabel: "Disable",
      message: `No new instances are placed in a disabled ${what}; running ones go on.` })) return;
    try {
      await run(command, { id: item.id, allocationstate: enabled ? "Disabled" : "Enabled" },
        { label: `${enabled ? "Disable" : "Enable"} ${what} ${name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  return html`<${RowButton} label=${enabled ? "Disable" : "Enable"} name=${name} onClick=${toggle} />`;
}

/** Delete `item` with `command` after asking; `options` are the confirmation's checkboxes. */
export function DeleteButton({ item, command, what, name = item.name, changed, message, options = [], extra = () => ({}) }) {
  if (!can(command)) return null;
  const remove = async () => {
    const answer = await confirm({ title: `Delete ${what} ${name}?`, confirmLabel: "Delete", danger: true, message, options });
    if (!answer) return;
    try {
      await run(command, { id: item.id, ...extra(answer) }, { label: `Delete ${what} ${name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  return html`<${RowButton} label="Delete" name=${name} kind="danger-outline" onClick=${remove} />`;
}
