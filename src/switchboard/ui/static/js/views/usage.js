// Resource usage against limits, as CloudStack counts them per account and domain: the meters the
// dashboard, the accounts and domains lists and the account page share, and the limits editor
// (listResourceLimits / updateResourceLimit) for administrators.
import { can, declares, listAll } from "../api.js";
import { FormDialog } from "../forms.js";
import { limitOf, mebibytes } from "../format.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert } from "../page.js";
import { RowButton } from "../table.js";

/** The limited resources: CloudStack's resource type numbers and the usage fields of listAccounts/listDomains. */
export const RESOURCES = [
  { type: "0", name: "user_vm", label: "Instances", total: "vmtotal", limit: "vmlimit", show: (n) => String(n) },
  { type: "8", name: "cpu", label: "vCPUs", total: "cputotal", limit: "cpulimit", show: (n) => String(n) },
  { type: "9", name: "memory", label: "Memory", total: "memorytotal", limit: "memorylimit", unit: "MiB",
    show: (n) => mebibytes(n) || "0 MiB" },
];

/** The resources whose usage `command` (listAccounts or listDomains) declares in its answer. */
export function resourcesOf(command) {
  return RESOURCES.filter((resource) => declares(command, resource.total) && declares(command, resource.limit));
}

function share(used, limit) {
  if (limit === null) return 0;
  if (limit === 0) return used > 0 ? 100 : 0;
  return Math.min(100, Math.round((used / limit) * 100));
}

function level(used, limit) {
  if (limit === null) return "free";
  if (used >= limit) return "full";
  return share(used, limit) >= 75 ? "high" : "ok";
}

/** One meter: "2 of 5" with a bar (full, nearly full and unlimited look different, unless `plain`). */
export function Meter({ label, used, limit, show = String, id, plain = false }) {
  const number = Number(used) || 0;
  const max = limitOf(limit);
  const text = max === null ? `${show(number)} · no limit` : `${show(number)} of ${show(max)}`;
  return html`<div class="meter" data-meter=${id || label} data-level=${plain ? "plain" : level(number, max)}>
    <div class="meter-head"><span class="meter-label">${label}</span><span class="meter-value">${text}</span></div>
    <div class="meter-bar" role="meter" aria-label=${label} aria-valuemin="0" aria-valuemax=${max === null ? number || 1 : max}
      aria-valuenow=${number} aria-valuetext=${text}>
      <span class="meter-fill" style=${{ width: `${max === null ? 0 : share(number, max)}%` }}></span></div>
  </div>`;
}

/** The meters of an account or domain row of listAccounts/listDomains. */
export function UsageMeters({ item, command = "listAccounts" }) {
  return html`${resourcesOf(command).map((resource) => html`<${Meter} key=${resource.name} id=${resource.name}
    label=${resource.label} used=${item[resource.total]} limit=${item[resource.limit]} show=${resource.show} />`)}`;
}

/** A compact "used / limit" for a table cell, with a thin bar. */
export function UsageCell({ item, resource }) {
  const used = Number(item[resource.total]) || 0;
  const max = limitOf(item[resource.limit]);
  return html`<span class="usage" data-level=${level(used, max)}>
    <span class="usage-text">${resource.show(used)}<span class="muted"> / ${max === null ? "∞" : resource.show(max)}</span></span>
    ${max !== null && html`<span class="usage-bar" aria-hidden="true"><span class="meter-fill" style=${{ width: `${share(used, max)}%` }}></span></span>`}
  </span>`;
}

/** Table columns for the usage of `command`'s rows (only those the server declares). */
export function usageColumns(command) {
  return resourcesOf(command).map((resource) => ({
    key: resource.total, label: resource.label, phone: resource.name === "user_vm",
    value: (item) => Number(item[resource.total]) || 0,
    render: (item) => html`<${UsageCell} item=${item} resource=${resource} />`,
  }));
}

function limitFields(resource) {
  return [
    { name: "unlimited", label: "No limit", type: "switch", local: true },
    { name: "max", label: resource.unit ? `Limit (${resource.unit})` : "Limit", type: "integer", min: 0, required: true,
      when: (values) => !values.unlimited,
      help: "What may be in use at once; instances count whether running or stopped." },
  ];
}

/**
 * An account's (`owner` = {account, domainid}) or a domain's (`owner` = {domainid}) limits next to what it
 * uses (`usage`: its listAccounts/listDomains row); administrators change them (updateResourceLimit).
 */
export function LimitsPanel({ owner, usage, name, changed, editable: allowed = true }) {
  const [limits, setLimits] = useState(null);
  const [failure, setFailure] = useState("");
  const [editing, setEditing] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    listAll("listResourceLimits", owner).then(
      (found) => { if (live) setLimits(found); },
      (error) => { if (live) { setLimits([]); setFailure(error.message); } },
    );
    return () => { live = false; };
  }, [JSON.stringify(owner), tick]);
  if (limits === null) return html`<p class="loading" role="status">Loading the limits…</p>`;
  const byType = new Map(limits.map((limit) => [String(limit.resourcetype), limit]));
  const editable = allowed && can("updateResourceLimit");
  return html`
    ${failure && html`<${Alert} kind="error">${failure}</${Alert}>`}
    <div class="limits">
      ${RESOURCES.filter((resource) => byType.has(resource.type)).map((resource) => {
        const limit = byType.get(resource.type);
        return html`<div class="limit-row" key=${resource.type} data-resource=${resource.name}>
          <${Meter} id=${resource.name} label=${resource.label} used=${usage ? usage[resource.total] : 0}
            limit=${limit.max} show=${resource.show} />
          ${editable && html`<${RowButton} label="Change limit" name=${`${resource.label.toLowerCase()} of ${name}`}
            action=${`limit-${resource.name}`} onClick=${() => setEditing({ resource, limit })} />`}
        </div>`;
      })}
    </div>
    ${editing && html`<${FormDialog} title=${`${editing.resource.label}: limit for ${name}`} command="updateResourceLimit"
      fields=${limitFields(editing.resource)} submitLabel="Set limit"
      initial=${{ unlimited: limitOf(editing.limit.max) === null, max: limitOf(editing.limit.max) ?? "" }}
      intro=${owner.account ? "With no limit, the account is held only by its domain's limits." : "With no limit, the domain is held only by the limits of the domains above it."}
      extra=${{ ...owner, resourcetype: editing.resource.type }}
      transform=${(params, values) => ({ ...params, max: values.unlimited ? -1 : Number(values.max) })}
      label=${`Set the ${editing.resource.label.toLowerCase()} limit of ${name}`}
      onClose=${() => setEditing(null)} onDone=${() => { setTick((n) => n + 1); if (changed) changed(); }} />`}`;
}
