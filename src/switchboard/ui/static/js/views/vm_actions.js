// What can be done to an instance in its current state, as buttons: shared by the instances list and
// the instance page. Each button names its instance for screen readers ("Stop web-1").
import { can } from "../api.js";
import { confirm } from "../dialogs.js";
import { run } from "../jobs.js";
import { html } from "../lib.js";
import { RowButton, RowLink } from "../table.js";

export const TRANSITIONAL = ["Starting", "Stopping", "Expunging", "Migrating", "Creating"];

export function nameOf(vm) {
  return vm.displayname || vm.name;
}

/** The address of an instance's page (a project's instance is found with its project's id). */
export function instanceHref(vm, tab = "") {
  const query = new URLSearchParams();
  if (vm.projectid) query.set("projectid", vm.projectid);
  if (tab) query.set("tab", tab);
  const search = query.toString();
  return `/instances/${vm.virtualmachineid || vm.id}${search ? `?${search}` : ""}`;
}

/** Ask (where it matters), run the command as a tracked job, and call `changed()` when it starts and ends. */
export async function vmOperation(vm, kind, changed) {
  const name = nameOf(vm);
  const href = `/instances/${vm.id}`;
  let params = { id: vm.id };
  let command;
  if (kind === "start") command = "startVirtualMachine";
  if (kind === "reboot") command = "rebootVirtualMachine";
  if (kind === "stop") {
    const answer = await confirm({ title: `Stop ${name}?`, confirmLabel: "Stop",
      message: "The instance is shut down; its disks and addresses stay.",
      options: [{ name: "forced", label: "Force stop",
        help: "Mark it stopped even if the extension cannot stop it (use when the machine is already gone)." }] });
    if (!answer) return;
    command = "stopVirtualMachine";
    if (answer.forced) params.forced = true;
  }
  if (kind === "destroy") {
    const answer = await confirm({ title: `Destroy ${name}?`, confirmLabel: "Destroy", danger: true,
      message: can("recoverVirtualMachine")
        ? "The instance is stopped and marked Destroyed; it can be recovered until it is expunged."
        : "The instance is stopped and destroyed.",
      options: can("expungeVirtualMachine") ? [{ name: "expunge", label: "Expunge now",
        help: "Remove it for good at once: it cannot be recovered." }] : [] });
    if (!answer) return;
    command = "destroyVirtualMachine";
    if (answer.expunge) params = { ...params, expunge: true };
  }
  if (kind === "recover") command = "recoverVirtualMachine";
  if (kind === "expunge") {
    const answer = await confirm({ title: `Expunge ${name}?`, confirmLabel: "Expunge", danger: true,
      message: "The instance is removed for good; this cannot be undone." });
    if (!answer) return;
    command = "expungeVirtualMachine";
  }
  const verb = { start: "Start", stop: "Stop", reboot: "Reboot", destroy: "Destroy", recover: "Recover", expunge: "Expunge" }[kind];
  const done = run(command, params, { label: `${verb} ${name}`, href, onStarted: () => changed() });
  try {
    await done;
  } catch (_error) {
    // Shown in the notification list with the server's message.
  }
  changed();
}

/** The buttons for `vm` in its state. `withRunAction` adds the Run Action link (External instances). */
export function VmButtons({ vm, changed, withRunAction = true }) {
  const name = nameOf(vm);
  const state = vm.state;
  const button = (label, kind, extra = "") => can(COMMANDS[kind]) && html`<${RowButton} label=${label} name=${name}
    action=${kind} kind=${extra} onClick=${() => vmOperation(vm, kind, changed)} />`;
  if (TRANSITIONAL.includes(state)) return html`<span class="muted working" role="status">${state}…</span>`;
  return html`
    ${state === "Stopped" && button("Start", "start")}
    ${state === "Running" && button("Stop", "stop")}
    ${state === "Running" && button("Reboot", "reboot")}
    ${withRunAction && vm.hypervisor === "External" && ["Running", "Stopped"].includes(state) && can("runCustomAction") &&
      html`<${RowLink} label="Run Action" name=${name} action="run-action" href=${`/instances/${vm.id}?tab=action`} />`}
    ${["Running", "Stopped", "Error"].includes(state) && button("Destroy", "destroy", "danger-outline")}
    ${state === "Destroyed" && button("Recover", "recover")}
    ${state === "Destroyed" && button("Expunge", "expunge", "danger-outline")}
    ${state === "Destroyed" && !can("recoverVirtualMachine") && !can("expungeVirtualMachine") &&
      html`<span class="muted">Awaiting expunge</span>`}`;
}

const COMMANDS = {
  start: "startVirtualMachine", stop: "stopVirtualMachine", reboot: "rebootVirtualMachine",
  destroy: "destroyVirtualMachine", recover: "recoverVirtualMachine", expunge: "expungeVirtualMachine",
};
