// Pods: a rack (or a row of them) in a zone, with its management address range; clusters live in pods.
import { can } from "../api.js";
import { StateBadge } from "../format.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView } from "../table.js";
import { DeleteButton } from "./infra_common.js";

function podFields() {
  return fromApi("createPod", [
    { name: "zoneid", label: "Zone" },
    { name: "name", label: "Name" },
    { name: "gateway", label: "Gateway", placeholder: "e.g. 192.168.100.1", help: "Gateway of the pod's management network." },
    { name: "netmask", label: "Netmask", placeholder: "e.g. 255.255.255.0", help: null },
    { name: "startip", label: "First IP address", help: "Management addresses reserved for the pod." },
    { name: "endip", label: "Last IP address", help: null },
    { name: "allocationstate", label: "State", type: "select", options: ["Enabled", "Disabled"], initial: "Enabled", help: null },
  ]);
}

export default function Pods() {
  const [open, setOpen] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const add = can("createPod") && html`<button type="button" class="primary" onClick=${() => setOpen(true)}>Add pod</button>`;
  return html`
    <${Page} title="Pods" actions=${add}>
      <${ListView} command="listPods" label="Pods" reloadKey=${reloadKey} empty="No pods yet."
        filters=${[{ param: "zoneid", label: "Zone", related: "listZones" }]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (pod) => html`<span class="row-title">${pod.name}</span>` },
          { key: "allocationstate", label: "State", render: (pod) => html`<${StateBadge} state=${pod.allocationstate} />` },
          { key: "zonename", label: "Zone" },
          { key: "gateway", label: "Gateway" },
          { key: "netmask", label: "Netmask", phone: false },
          { key: "ipranges", label: "Addresses", sortable: false,
            render: (pod) => (pod.ipranges || []).map((range) => `${range.startip} – ${range.endip}`).join(", ") },
        ]}
        actions=${can("deletePod") && ((pod, changed) => html`<${DeleteButton} item=${pod} command="deletePod" what="pod"
          changed=${changed} message="The pod must have no clusters left." />`)} />
      ${open && html`<${FormDialog} title="Add a pod" wide=${true} command="createPod" fields=${podFields()} submitLabel="Add pod"
        label=${(values) => `Add pod ${values.name}`} onClose=${() => setOpen(false)} onDone=${() => setReloadKey((n) => n + 1)} />`}
    </${Page}>`;
}
