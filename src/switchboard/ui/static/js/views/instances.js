// Instances: every instance the session may see, with what can be done to each in its state.
import { can } from "../api.js";
import { DateText, StateBadge, ipOf, mebibytes } from "../format.js";
import { html } from "../lib.js";
import { Page } from "../page.js";
import { ListView, accountColumn, projectFilter } from "../table.js";
import { TRANSITIONAL, VmButtons, instanceHref, nameOf } from "./vm_actions.js";

const STATES = ["Running", "Stopped", "Starting", "Stopping", "Error", "Destroyed", "Expunging"];

export default function Instances() {
  const deploy = can("deployVirtualMachine") && html`<a class="button primary" href="/deploy">Deploy an instance</a>`;
  return html`
    <${Page} title="Instances" actions=${deploy}>
      <${ListView} command="listVirtualMachines" label="Instances"
        busy=${(vm) => TRANSITIONAL.includes(vm.state)}
        filters=${[
          { param: "state", label: "State", options: STATES },
          { param: "zoneid", label: "Zone", related: "listZones" },
          projectFilter(),
        ]}
        empty=${html`No instances yet. ${deploy ? html`<a href="/deploy">Deploy one</a>.` : ""}`}
        columns=${[
          { key: "name", label: "Name", primary: true, value: nameOf,
            render: (vm) => html`<a href=${instanceHref(vm)} class="row-title">${nameOf(vm)}</a>
              ${vm.displayname && vm.displayname !== vm.name ? html`<span class="muted sub">${vm.name}</span>` : ""}` },
          { key: "state", label: "State", render: (vm) => html`<${StateBadge} state=${vm.state} />` },
          { key: "ipaddress", label: "IP address", value: ipOf, render: (vm) => ipOf(vm) || html`<span class="muted">—</span>` },
          { key: "templatename", label: "Template", phone: false },
          { key: "serviceofferingname", label: "Offering", phone: false,
            render: (vm) => html`${vm.serviceofferingname}<span class="muted sub">${vm.cpunumber} vCPU · ${mebibytes(vm.memory)}</span>` },
          { key: "zonename", label: "Zone", phone: false, laptop: false },
          { key: "hostname", label: "Host", phone: false, when: () => can("listHosts") },
          accountColumn(),
          { key: "created", label: "Created", phone: false, render: (vm) => html`<${DateText} value=${vm.created} />` },
        ]}
        actions=${(vm, reload) => html`<${VmButtons} vm=${vm} changed=${reload} />`} />
    </${Page}>`;
}
