// Global settings under CloudStack's names (listConfigurations / updateConfiguration), at a scope: the
// global value, or the value that applies to one domain or one account (set there, or inherited). Dynamic
// settings change at once; the others are read at start (their SWITCHBOARD_* variable sets them).
import { can, listAll, paramInfo } from "../api.js";
import { FormDialog, fromApi } from "../forms.js";
import { html, useEffect, useState } from "../lib.js";
import { Page } from "../page.js";
import { setQuery } from "../router.js";
import { ListView, RowButton } from "../table.js";

function valueField(setting) {
  const base = { name: "value", label: "Value", required: true,
    help: `${setting.description}${setting.defaultvalue !== undefined ? ` Default: ${setting.defaultvalue === "" ? "empty" : setting.defaultvalue}.` : ""}` };
  if (setting.type === "Boolean") return { ...base, type: "select", options: [["true", "true"], ["false", "false"]] };
  if (["Integer", "Long", "Number", "Short"].includes(setting.type)) return { ...base, type: "integer" };
  return base;
}

const SCOPES = [["", "Global"], ["domain", "Domain"], ["account", "Account"]];

/** The settings at one scope (`scope`: {} global, {domainid} or {accountid}), each dynamic one editable. */
export function SettingsList({ scope = {}, prefix = "", label = "Settings", scopeName = "" }) {
  const [editing, setEditing] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const [categories, setCategories] = useState([]);
  useEffect(() => {
    let live = true;
    listAll("listConfigurations", scope).then((found) => {
      if (live) setCategories([...new Set(found.map((setting) => setting.category).filter(Boolean))].sort());
    }, () => {});
    return () => { live = false; };
  }, [JSON.stringify(scope)]);
  return html`
    <${ListView} command="listConfigurations" label=${label} params=${scope} prefix=${prefix} reloadKey=${reloadKey}
      sort=${{ key: "name", dir: "asc" }} rowKey=${(setting) => setting.name}
      empty=${Object.keys(scope).length ? "No setting can be set at this scope." : "No settings."}
      filters=${categories.length ? [{ param: "category", label: "Category", options: categories }] : []}
      columns=${[
        { key: "name", label: "Name", primary: true, render: (setting) => html`<code class="row-title">${setting.name}</code>
          <span class="muted sub wrap">${setting.description}</span>` },
        { key: "value", label: "Value", render: (setting) => html`<span><code class="setting-value">${setting.value === "" ? "(empty)" : setting.value}</code>
          ${setting.defaultvalue !== undefined && setting.value !== setting.defaultvalue && html`<span class="tag">Changed</span>`}</span>` },
        { key: "defaultvalue", label: "Default", phone: false, render: (setting) => html`<code>${setting.defaultvalue}</code>` },
        { key: "category", label: "Category", phone: false },
        { key: "type", label: "Type", phone: false, laptop: false },
        { key: "isdynamic", label: "Takes effect", phone: false, value: (setting) => (setting.isdynamic ? 0 : 1),
          render: (setting) => (setting.isdynamic ? "At once" : html`<span class="muted" title="Set its SWITCHBOARD_* variable and restart">At restart</span>`) },
      ]}
      actions=${can("updateConfiguration") && ((setting) => (setting.isdynamic === false
        ? html`<span class="muted small-note">Set at start</span>`
        : html`<${RowButton} label="Edit" name=${setting.name} onClick=${() => setEditing(setting)} />`))} />
    ${editing && html`<${FormDialog} title=${`Change ${editing.name}${scopeName ? ` for ${scopeName}` : ""}`} command="updateConfiguration"
      fields=${fromApi("updateConfiguration", [valueField(editing)])} extra=${{ name: editing.name, ...scope }}
      initial=${{ value: editing.value }} label=${`Set ${editing.name}${scopeName ? ` for ${scopeName}` : ""}`}
      onClose=${() => setEditing(null)} onDone=${() => setReloadKey((n) => n + 1)} />`}`;
}

const SCOPE_LISTS = {
  domain: { command: "listDomains", label: "Domain", name: (item) => item.path || item.name },
  account: { command: "listAccounts", label: "Account", name: (item) => `${item.name} (${item.domainpath || item.domain})` },
};

/** The domains or accounts a scope may be (null while loading). */
function useTargets(kind) {
  const [items, setItems] = useState(null);
  useEffect(() => {
    if (!kind) return undefined;
    let live = true;
    setItems(null);
    listAll(SCOPE_LISTS[kind].command).then((found) => { if (live) setItems(found); }, () => { if (live) setItems([]); });
    return () => { live = false; };
  }, [kind]);
  return items;
}

export default function Settings({ query }) {
  const kind = SCOPE_LISTS[query.get("scope")] ? query.get("scope") : "";
  const targets = useTargets(kind);
  const id = query.get("scopeid") || (targets && targets.length ? targets[0].id : "");
  const target = (targets || []).find((item) => item.id === id);
  const scoped = paramInfo("listConfigurations", "domainid") && paramInfo("listConfigurations", "accountid");
  const scope = kind === "domain" && target ? { domainid: id } : kind === "account" && target ? { accountid: id } : {};
  return html`
    <${Page} title="Global settings"
      subtitle=${kind ? "The value that applies at the chosen scope: set there, or inherited from above." : "The cloud-wide values; a domain or an account may override some."}>
      ${scoped && html`<div class="scope-bar" role="group" aria-label="Scope">
        <fieldset class="segmented" role="radiogroup" aria-label="Scope of the settings">
          ${SCOPES.map(([value, text]) => html`<label key=${value} class=${kind === value ? "on" : ""}>
            <input type="radio" name="scope" value=${value} checked=${kind === value}
              onChange=${() => setQuery({ scope: value, scopeid: "", q: "", page: "", category: "" })} /><span>${text}</span></label>`)}
        </fieldset>
        ${kind && html`<div class="filter"><label for="scope-target">${SCOPE_LISTS[kind].label}</label>
          <select id="scope-target" value=${id} aria-busy=${targets === null ? "true" : null}
            onChange=${(event) => setQuery({ scopeid: event.currentTarget.value, page: "" })}>
            ${targets === null && html`<option value="">Loading…</option>`}
            ${(targets || []).map((item) => html`<option value=${item.id}>${SCOPE_LISTS[kind].name(item)}</option>`)}
          </select></div>`}
      </div>`}
      ${!kind ? html`<${SettingsList} key="global" scope=${scope} />`
        : target ? html`<${SettingsList} key=${id} scope=${scope} scopeName=${target.path || target.name} />`
          : targets === null ? html`<p class="loading" role="status">Loading…</p>` : html`<p class="empty">Nothing to choose.</p>`}
    </${Page}>`;
}
