// The dashboard: what runs, what it takes, what happened lately, and what needs an operator's attention.
import { can, listAll, list } from "../api.js";
import { DateText, StateBadge, limitOf, mebibytes } from "../format.js";
import { html, useEffect, useState } from "../lib.js";
import { Card, Page } from "../page.js";
import { user } from "../session.js";
import { Meter, RESOURCES, UsageCell, UsageMeters, resourcesOf } from "./usage.js";

async function gather() {
  const admin = can("listHosts");
  const wanted = {
    vms: listAll("listVirtualMachines"),
    events: list("listEvents", { listall: true, page: 1, pagesize: 8 }).then((reply) => reply.items),
    templates: listAll("listTemplates", { templatefilter: "executable" }),
    networks: listAll("listNetworks"),
    volumes: can("listVolumes") ? list("listVolumes", { listall: true, page: 1, pagesize: 1 }).then((reply) => reply.count) : Promise.resolve(null),
    // What accounts use against their limits (listAccounts' usage fields): the session's own account, and
    // for those who see other accounts, every one (the closest to a limit are shown).
    accounts: can("listAccounts") ? listAll("listAccounts") : Promise.resolve(null),
  };
  if (!admin) {
    Object.assign(wanted, {
      keypairs: can("listSSHKeyPairs") ? list("listSSHKeyPairs", { page: 1, pagesize: 1 }).then((reply) => reply.count) : Promise.resolve(null),
      projects: can("listProjects") ? list("listProjects", { page: 1, pagesize: 1 }).then((reply) => reply.count) : Promise.resolve(null),
    });
  }
  if (admin) {
    Object.assign(wanted, {
      hosts: listAll("listHosts"), clusters: listAll("listClusters"), zones: listAll("listZones"),
      extensions: listAll("listExtensions", { details: "resource" }),
      alerts: can("listAlerts") ? list("listAlerts", { page: 1, pagesize: 5 }) : Promise.resolve(null),
    });
  }
  const names = Object.keys(wanted);
  const settled = await Promise.allSettled(Object.values(wanted));
  const found = {};
  names.forEach((name, index) => { found[name] = settled[index].status === "fulfilled" ? settled[index].value : null; });
  return found;
}

function Stat({ label, value, detail, href }) {
  const body = html`<span class="stat-value">${value ?? "—"}</span><span class="stat-label">${label}</span>
    ${detail && html`<span class="stat-detail">${detail}</span>`}`;
  return href ? html`<a class="stat" href=${href}>${body}</a>` : html`<div class="stat">${body}</div>`;
}

/** True when none of the account's resources is limited (a root administrator's). */
function unlimited(account) {
  return RESOURCES.every((resource) => limitOf(account[resource.limit]) === null);
}

/** How close an account is to its nearest limit (0..1; 0 when it has none). */
function pressure(account) {
  let most = 0;
  for (const resource of RESOURCES) {
    const limit = limitOf(account[resource.limit]);
    if (limit === null) continue;
    const used = Number(account[resource.total]) || 0;
    most = Math.max(most, limit === 0 ? (used > 0 ? 1 : 0.999) : used / limit);
  }
  return most;
}

/** The accounts nearest their limits, with what each uses of them (for those who manage other accounts). */
function Pressure({ accounts, own }) {
  const resources = resourcesOf("listAccounts");
  const limited = accounts.filter((account) => account.id !== own && resources
    .some((resource) => limitOf(account[resource.limit]) !== null));
  const shown = limited.sort((a, b) => pressure(b) - pressure(a) || a.name.localeCompare(b.name)).slice(0, 5);
  return html`<${Card} title="Accounts nearest their limits" className="pressure-card"
    actions=${can("createAccount") && html`<a href="/accounts">All accounts</a>`}>
    ${shown.length === 0 ? html`<p class="muted">No account has limits.</p>` : html`<div class="table-wrap flat"><table class="grid compact" data-list="pressure">
      <caption class="visually-hidden">Accounts nearest their limits</caption>
      <thead><tr><th scope="col">Account</th>${resources.map((resource) => html`<th scope="col" key=${resource.name}>${resource.label}</th>`)}</tr></thead>
      <tbody>${shown.map((account) => html`<tr key=${account.id} data-name=${account.name} data-account=${account.name}>
        <td class="primary-cell" data-label="Account"><a class="row-title" href=${`/accounts/${account.id}?tab=limits`}>${account.name}</a>
          <span class="muted sub">${account.domainpath || account.domain}</span></td>
        ${resources.map((resource) => html`<td key=${resource.name} data-label=${resource.label} data-meter=${resource.name}>
          <${UsageCell} item=${account} resource=${resource} /></td>`)}
      </tr>`)}</tbody>
    </table></div>`}
  </${Card}>`;
}

function attention(data) {
  const problems = [];
  const inUse = (extension) => (extension.resources || []).length > 0;
  for (const extension of data.extensions || []) {
    if (inUse(extension) && (!extension.pathready || extension.state !== "Enabled")) {
      problems.push({ key: `e${extension.id}`, href: `/extensions/${extension.id}`, name: `Extension ${extension.name}`,
        state: extension.state !== "Enabled" ? extension.state : "Not ready",
        text: extension.state !== "Enabled" ? "is disabled but drives clusters" : "cannot run its executable on this server" });
    }
  }
  for (const host of data.hosts || []) {
    if (host.state !== "Up" || !["Enabled"].includes(host.resourcestate)) {
      problems.push({ key: `h${host.id}`, href: `/hosts?q=${encodeURIComponent(host.name)}`, name: `Host ${host.name}`,
        state: host.state !== "Up" ? host.state : host.resourcestate,
        text: host.state !== "Up" ? `is ${host.state}` : `is ${host.resourcestate}` });
    }
  }
  return problems;
}

export default function Dashboard() {
  const [data, setData] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    gather().then((found) => { if (live) setData(found); });
    const timer = setInterval(() => setTick((n) => n + 1), 30000);
    return () => { live = false; clearInterval(timer); };
  }, [tick]);
  const who = user();
  if (!data) return html`<${Page} title="Dashboard"><p class="loading" role="status">Loading the dashboard…</p></${Page}>`;

  const vms = (data.vms || []).filter((vm) => vm.state !== "Expunging");
  const count = (state) => vms.filter((vm) => vm.state === state).length;
  const running = vms.filter((vm) => vm.state === "Running");
  const cpus = running.reduce((sum, vm) => sum + (Number(vm.cpunumber) || 0), 0);
  const memory = running.reduce((sum, vm) => sum + (Number(vm.memory) || 0), 0);
  const admin = Boolean(data.hosts);
  const problems = admin ? attention(data) : [];
  const idle = (data.extensions || []).filter((extension) => !extension.pathready && !(extension.resources || []).length);
  const hostsUp = (data.hosts || []).filter((host) => host.state === "Up").length;
  const accounts = data.accounts || [];
  const mine = accounts.find((account) => account.name === who.account && account.domainid === who.domainid) ||
    (accounts.length === 1 ? accounts[0] : null);
  const others = can("createAccount") ? accounts : [];

  return html`
    <${Page} title="Dashboard" subtitle=${who.username ? `Welcome, ${who.firstname || who.username}.` : null}
      actions=${can("deployVirtualMachine") && html`<a class="button primary" href="/deploy">Deploy an instance</a>`}>
      <div class="stats" aria-label="Counts">
        <${Stat} label="Instances" value=${vms.length - count("Destroyed")} href="/instances"
          detail=${`${count("Running")} running · ${count("Stopped")} stopped${count("Error") ? ` · ${count("Error")} in error` : ""}`} />
        <${Stat} label="Templates" value=${data.templates ? data.templates.length : null} href="/templates" />
        <${Stat} label="Networks" value=${data.networks ? data.networks.length : null} href="/networks" />
        ${!admin && html`
          <${Stat} label="Volumes" value=${data.volumes} href="/volumes" />
          <${Stat} label="SSH key pairs" value=${data.keypairs} href="/sshkeys" />
          <${Stat} label="Projects" value=${data.projects} href="/projects" />`}
        ${admin && html`
          <${Stat} label="Hosts" value=${data.hosts.length} href="/hosts" detail=${`${hostsUp} up`} />
          <${Stat} label="Clusters" value=${(data.clusters || []).length} href="/clusters"
            detail=${`${(data.zones || []).length} zone${(data.zones || []).length === 1 ? "" : "s"}`} />
          <${Stat} label="Extensions" value=${(data.extensions || []).length} href="/extensions"
            detail=${`${(data.extensions || []).filter((extension) => extension.pathready).length} ready`} />`}
      </div>
      <div class="dash-grid">
        <${Card} title="Capacity in use" className="capacity-card">
          <${Meter} id="running" plain=${true} label="Running instances" used=${running.length} limit=${vms.length - count("Destroyed")} />
          <p class="capacity-line"><strong>${cpus}</strong> vCPU and <strong>${mebibytes(memory) || "0 MiB"}</strong> memory
            allocated to running instances.</p>
          ${mine && (unlimited(mine) ? html`<p class="own-usage muted" data-account=${mine.name}>
              ${mine.name === who.account ? "Your account" : mine.name} has no limits.</p>`
            : html`<div class="own-usage" data-account=${mine.name}>
              <h3 class="sub-title">${mine.name === who.account ? "Your account" : mine.name} against its limits</h3>
              <${UsageMeters} item=${mine} />
            </div>`)}
          <p class="muted small-print">External hosts report no CPU or memory of their own: capacity is what instances are
            given, against the limits of each account.</p>
        </${Card}>
        ${(admin || others.length > 0) && html`<div class="stack">
        ${admin && html`
          <${Card} title="Needs attention" className="attention">
            ${problems.length === 0 ? html`<p class="all-good"><span aria-hidden="true">✓</span> Every host is up and every extension in use is ready.</p>` : html`
              <ul class="plain-list">
                ${problems.map((problem) => html`<li key=${problem.key}><${StateBadge} state=${problem.state} />
                  <a href=${problem.href}>${problem.name}</a> ${problem.text}</li>`)}
              </ul>`}
            ${idle.length > 0 && html`<p class="muted small-print">Not set up on this server (used by no cluster):
              ${idle.map((extension, index) => html`${index ? ", " : ""}<a href=${`/extensions/${extension.id}`}>${extension.name}</a>`)}.</p>`}
            ${data.alerts && data.alerts.items.length > 0 && html`<p class="small-print"><a href="/alerts">
              ${data.alerts.count} alert${data.alerts.count === 1 ? "" : "s"}</a>, the latest: ${data.alerts.items[0].description}</p>`}
          </${Card}>`}
        ${others.length > 0 && html`<${Pressure} accounts=${others} own=${mine && mine.id} />`}
        </div>`}
        <${Card} title="Recent events" className=${admin || others.length ? "events-card" : "events-card beside"} actions=${html`<a href="/events">All events</a>`}>
          ${(data.events || []).length === 0 ? html`<p class="muted">No events yet.</p>` : html`
            <ul class="event-list">
              ${data.events.map((event) => html`<li key=${event.id}>
                <${StateBadge} state=${event.level} />
                <span class="event-text">${event.description}</span>
                <span class="event-meta">${event.type} · <${DateText} value=${event.created} relative=${true} /></span>
              </li>`)}
            </ul>`}
        </${Card}>
      </div>
    </${Page}>`;
}
