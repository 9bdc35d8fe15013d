// One account: its role, domain and state, and its users; what it uses against its limits (which
// administrators change), and the settings that apply to it.
import { can, find, listAll } from "../api.js";
import { DateText, StateBadge } from "../format.js";
import { html, useEffect, useState } from "../lib.js";
import { Card, Details, Missing, Page, Tabs } from "../page.js";
import { SettingsList } from "./settings.js";
import { LimitsPanel } from "./usage.js";
import { UsersTable } from "./users.js";

export default function AccountPage({ params, query }) {
  const [account, setAccount] = useState(undefined);
  const [users, setUsers] = useState([]);
  const [tick, setTick] = useState(0);
  const changed = () => setTick((n) => n + 1);
  useEffect(() => {
    find("listAccounts", params.id).then(async (found) => {
      setAccount(found);
      if (found) setUsers(await listAll("listUsers", { account: found.name, domainid: found.domainid }));
    }, (error) => setAccount(error.code === 431 ? null : (previous) => previous || null));
  }, [params.id, tick]);
  const crumbs = [["Accounts", "/accounts"]];
  if (account === undefined) return html`<${Page} title="Account" crumbs=${crumbs}><p class="loading" role="status">Loading…</p></${Page}>`;
  if (account === null) return html`<${Missing} what="account" back=${["Accounts", "/accounts"]} />`;
  const rootAdmin = account.roletype === "Admin";
  return html`
    <${Page} title=${account.name} crumbs=${crumbs} subtitle=${html`<${StateBadge} state=${account.state} label=${account.state} /> ${account.rolename}`}>
      <${Tabs} label="Account" current=${query.get("tab")} tabs=${[
        { id: "overview", label: "Overview", render: () => html`
          <${Card} title="Account">
            <${Details} className="two" rows=${[["Role", account.rolename === account.roletype ? account.rolename : `${account.rolename} (${account.roletype})`], ["Domain", account.domainpath || account.domain],
              ["State", account.state], ["Created", html`<${DateText} value=${account.created} />`], ["ID", html`<code>${account.id}</code>`]]} />
          </${Card}>
          <${Card}><${UsersTable} users=${users} accountName=${account.name} domainid=${account.domainid} changed=${changed} /></${Card}>` },
        can("listResourceLimits") && { id: "limits", label: "Limits", render: () => html`
          <${Card} title="Usage and limits">
            ${rootAdmin ? html`<p class="muted">A root administrator's account has no limits.</p>`
              : html`<p class="muted">Instances count whether running or stopped; their vCPUs and memory count with them.
                An account without a limit of its own has the defaults of the global settings (max.account.*).</p>`}
            <${LimitsPanel} owner=${{ account: account.name, domainid: account.domainid }} usage=${account} name=${account.name}
              editable=${!rootAdmin} changed=${changed} />
          </${Card}>` },
        can("listConfigurations") && { id: "settings", label: "Settings", render: () => html`
          <${SettingsList} scope=${{ accountid: account.id }} prefix="set" label="Settings of the account" scopeName=${account.name} />` },
      ]} />
    </${Page}>`;
}
