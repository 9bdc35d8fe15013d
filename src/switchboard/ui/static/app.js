// Switchboard web UI. Plain browser JavaScript, no build step: every page is a shell rendered by the
// server, and this script fills it through the public API at /client/api with the login session
// (the `sessionkey` cookie set by `login`, sent again as the `sessionkey` parameter).
// Everything shown comes through textContent or element attributes, never innerHTML: no markup from data.
"use strict";

const API = "/client/api";
const POLL_MS = 500;

// ---- helpers -------------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function flash(text, kind) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = text || "";
  box.className = "flash " + (kind || "info");
  box.hidden = !text;
}

// A message for the next page (shown once, after a redirect).
function flashNext(text, kind) {
  sessionStorage.setItem("sb.flash", JSON.stringify({ text, kind }));
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

// One API call: POST (keeps passwords and parameters out of URLs), JSON, session key added.
async function api(command, params) {
  const body = new URLSearchParams({ command, response: "json" });
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") body.append(key, String(value));
  }
  if (command !== "login") body.set("sessionkey", cookie("sessionkey"));
  const reply = await fetch(API, { method: "POST", body, credentials: "same-origin" });
  let data = {};
  try { data = await reply.json(); } catch (_e) { /* not JSON: reported below */ }
  const inner = Object.values(data)[0] || {};
  if (!reply.ok || inner.errorcode) {
    if (reply.status === 401 && command !== "login") {
      window.location.assign("/login");
    }
    throw new ApiError(inner.errortext || `${command} failed (HTTP ${reply.status})`, reply.status);
  }
  return inner;
}

// Wait for an async job; resolves with its jobresult, rejects with its error text.
async function waitForJob(jobid) {
  for (;;) {
    const job = await api("queryAsyncJobResult", { jobid });
    if (job.jobstatus === 1) return job.jobresult || {};
    if (job.jobstatus === 2) {
      throw new ApiError((job.jobresult && job.jobresult.errortext) || "the job failed", 530);
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

async function list(command, key, params) {
  const reply = await api(command, { listall: "true", ...(params || {}) });
  return reply[key] || [];
}

function fillSelect(select, items, label, { blank } = {}) {
  select.replaceChildren();
  if (blank !== undefined) select.append(el("option", { value: "" }, blank));
  for (const item of items) select.append(el("option", { value: item.id }, label(item)));
}

function table(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => el("tr", {}, cells.map((cell) => el("td", {}, cell)))));
}

// ---- pages ---------------------------------------------------------------------------------------------

async function loginPage() {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    flash("");
    const data = new FormData(form);
    try {
      const reply = await api("login", {
        username: data.get("username"), password: data.get("password"), domain: data.get("domain"),
      });
      sessionStorage.setItem("sb.username", reply.username || data.get("username"));
      sessionStorage.setItem("sb.accounttype", reply.type || "");
      window.location.assign("/");
    } catch (error) {
      flash(error.message, "error");
    }
  });
}

function stateBadge(state) {
  return el("span", { class: "state state-" + String(state || "unknown").toLowerCase() }, state || "Unknown");
}

async function instanceAction(button, command, vm, extra) {
  button.disabled = true;
  flash(`${command} ${vm.name}…`);
  try {
    const reply = await api(command, { id: vm.id, ...(extra || {}) });
    await waitForJob(reply.jobid);
    flash(`${command} ${vm.name}: done`, "ok");
  } catch (error) {
    flash(error.message, "error");
  }
  await refreshInstances();
}

function instanceButtons(vm) {
  const buttons = [];
  const add = (label, command, extra, confirmText) => buttons.push(el("button", {
    type: "button", class: "small", dataset: { action: label.toLowerCase() },
    onclick: (event) => {
      if (confirmText && !window.confirm(confirmText)) return;
      instanceAction(event.currentTarget, command, vm, extra);
    },
  }, label));
  if (vm.state === "Stopped") add("Start", "startVirtualMachine");
  if (vm.state === "Running") {
    add("Stop", "stopVirtualMachine");
    add("Reboot", "rebootVirtualMachine");
  }
  if (["Running", "Stopped", "Error"].includes(vm.state)) {
    add("Destroy", "destroyVirtualMachine", {}, `Destroy ${vm.name}?`);
  }
  if (vm.hypervisor === "External" && !["Destroyed", "Expunging"].includes(vm.state)) {
    buttons.push(el("a", { class: "button small", href: "/action?vm=" + encodeURIComponent(vm.id),
      dataset: { action: "run-action" } }, "Run Action"));
  }
  return el("div", { class: "actions" }, buttons);
}

let refreshTimer = null;

async function refreshInstances() {
  clearTimeout(refreshTimer);
  const tbody = document.querySelector("#instances tbody");
  let vms = [];
  try {
    vms = await list("listVirtualMachines", "virtualmachine");
  } catch (error) {
    flash(error.message, "error");
    return;
  }
  tbody.replaceChildren(...vms.map((vm) => el("tr", { dataset: { name: vm.name, id: vm.id } },
    el("td", {}, vm.displayname || vm.name),
    el("td", { class: "state-cell" }, stateBadge(vm.state)),
    el("td", {}, ((vm.nic || []).find((nic) => nic.isdefault) || (vm.nic || [])[0] || {}).ipaddress || "—"),
    el("td", {}, vm.templatename || ""),
    el("td", {}, vm.serviceofferingname || ""),
    el("td", {}, vm.zonename || ""),
    el("td", {}, instanceButtons(vm)),
  )));
  document.getElementById("empty").hidden = vms.length > 0;
  // Keep following instances that are between two states.
  if (vms.some((vm) => ["Starting", "Stopping", "Expunging", "Migrating"].includes(vm.state))) {
    refreshTimer = setTimeout(refreshInstances, 2000);
  }
}

async function instancesPage() {
  document.getElementById("refresh").addEventListener("click", refreshInstances);
  await refreshInstances();
}

async function deployPage() {
  const form = document.getElementById("deploy-form");
  const field = (name) => form.elements.namedItem(name);
  const loadForZone = async () => {
    const zoneid = field("zoneid").value;
    const [templates, networks] = await Promise.all([
      list("listTemplates", "template", { templatefilter: "executable", zoneid }),
      list("listNetworks", "network", { zoneid }),
    ]);
    fillSelect(field("templateid"), templates, (t) => t.name);
    fillSelect(field("networkids"), networks, (n) => `${n.name} (${n.type}${n.vlan ? ", VLAN " + n.vlan : ""})`,
      { blank: "(default)" });
    if (networks.length) field("networkids").value = networks[0].id;
  };
  try {
    const [zones, offerings] = await Promise.all([
      list("listZones", "zone", { available: "true" }),
      list("listServiceOfferings", "serviceoffering"),
    ]);
    fillSelect(field("zoneid"), zones, (z) => z.name);
    fillSelect(field("serviceofferingid"), offerings, (o) => `${o.name} (${o.cpunumber} vCPU, ${o.memory} MiB)`);
    if (zones.length) await loadForZone();
  } catch (error) {
    flash(error.message, "error");
  }
  field("zoneid").addEventListener("change", () => loadForZone().catch((e) => flash(e.message, "error")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const params = Object.fromEntries(new FormData(form));
    flash("Deploying…");
    try {
      const reply = await api("deployVirtualMachine", params);
      const result = await waitForJob(reply.jobid);
      const vm = result.virtualmachine || {};
      flashNext(`Deployed ${vm.name || params.name || "the instance"}: ${vm.state || "done"}`, "ok");
      window.location.assign("/");
    } catch (error) {
      flash(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

// One form control per custom-action parameter, as CloudStack's RunCustomAction form does.
function parameterControl(param) {
  const name = "param-" + param.name;
  const options = param.valueoptions || [];
  let control;
  if (param.type === "BOOLEAN") {
    control = el("input", { type: "checkbox", role: "switch", class: "switch", name, dataset: { param: param.name } });
  } else if (options.length) {
    control = el("select", { name, required: param.required, dataset: { param: param.name } },
      param.required ? null : el("option", { value: "" }, ""),
      options.map((option) => el("option", { value: option }, option)));
  } else if (param.type === "DATE") {
    control = el("input", { type: "datetime-local", step: 1, name, required: param.required,
      dataset: { param: param.name, date: "1" } });
  } else if (param.type === "NUMBER") {
    control = el("input", { type: "number", step: param.validationformat === "DECIMAL" ? "0.01" : "1", name,
      required: param.required, dataset: { param: param.name } });
  } else {
    const types = { PASSWORD: "password", EMAIL: "email", URL: "url" };
    control = el("input", { type: types[param.validationformat] || "text", name, required: param.required,
      autocomplete: param.validationformat === "PASSWORD" ? "new-password" : "off",
      pattern: param.validationformat === "UUID"
        ? "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" : null,
      dataset: { param: param.name } });
  }
  return el("label", { class: param.type === "BOOLEAN" ? "inline" : null },
    el("span", {}, param.name, param.required ? el("span", { class: "required", title: "required" }, " *") : null),
    control);
}

function parameterValue(control) {
  if (control.type === "checkbox") return control.checked ? "true" : "false";
  if (control.dataset.date && control.value) {
    // A local date and time, sent as UTC in ISO-8601 (yyyy-MM-ddTHH:mm:ssZ).
    return new Date(control.value).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return control.value;
}

function showResult(result) {
  const box = document.getElementById("action-result");
  const outcome = result.result || {};
  document.getElementById("result-success").replaceChildren(
    el("span", { class: result.success ? "state state-running" : "state state-error" },
      result.success ? "true" : "false"));
  document.getElementById("result-message").textContent = outcome.message || "";
  const details = document.getElementById("result-details");
  let parsed = null;
  try { parsed = JSON.parse(outcome.details); } catch (_e) { parsed = null; }
  const rows = parsed && parsed.printmessage === "true" ? parsed.message : null;
  const objects = Array.isArray(rows) ? rows : rows && typeof rows === "object" ? [rows] : null;
  if (objects && objects.length && objects.every((row) => row && typeof row === "object")) {
    const keys = Object.keys(objects[0]);
    const show = (value) => (value !== null && typeof value === "object" ? JSON.stringify(value) : value);
    details.replaceChildren(el("table", { class: "grid result-table" },
      el("thead", {}, el("tr", {}, keys.map((key) => el("th", {}, key)))),
      el("tbody", {}, objects.map((row) => el("tr", {}, keys.map((key) => el("td", {}, show(row[key]))))))));
  } else if (parsed && parsed.printmessage === "true" && parsed.message !== undefined) {
    details.replaceChildren(el("pre", {}, String(parsed.message)));
  } else {
    details.replaceChildren(el("pre", {}, outcome.details || ""));
  }
  box.hidden = false;
}

async function actionPage() {
  const vmId = new URLSearchParams(window.location.search).get("vm") || "";
  const form = document.getElementById("action-form");
  const select = document.getElementById("action-select");
  const holder = document.getElementById("action-parameters");
  let actions = [];
  try {
    const [vms, found] = await Promise.all([
      list("listVirtualMachines", "virtualmachine", { id: vmId }),
      list("listCustomActions", "extensioncustomaction",
        { resourcetype: "VirtualMachine", resourceid: vmId, enabled: "true" }),
    ]);
    actions = found;
    const vm = vms[0];
    document.getElementById("target").textContent = vm
      ? `Instance ${vm.displayname || vm.name} (${vm.state}) — extension ${vm.extensionname || "?"}` : "";
  } catch (error) {
    flash(error.message, "error");
  }
  fillSelect(select, actions, (a) => a.name);
  const render = () => {
    const action = actions.find((a) => a.id === select.value);
    document.getElementById("action-description").textContent = (action && action.description) || "";
    holder.replaceChildren(...((action && action.parameters) || []).map(parameterControl));
  };
  select.addEventListener("change", render);
  render();
  if (!actions.length) flash("This instance's extension offers no enabled custom actions.", "info");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const params = { customactionid: select.value, resourceid: vmId, resourcetype: "VirtualMachine" };
    for (const control of holder.querySelectorAll("[data-param]")) {
      const value = parameterValue(control);
      if (value !== "") params[`parameters[0].${control.dataset.param}`] = value;
    }
    flash("Running…");
    try {
      const reply = await api("runCustomAction", params);
      const result = await waitForJob(reply.jobid);
      flash("");
      showResult(result.customactionresult || {});
    } catch (error) {
      flash(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

async function fillInfra(id, command, key, columns) {
  const grid = document.getElementById(id);
  grid.querySelector("thead").replaceChildren(el("tr", {}, columns.map(([label]) => el("th", {}, label))));
  try {
    const items = await list(command, key);
    table(grid.querySelector("tbody"), items.map((item) => columns.map(([, pick]) => {
      const value = pick(item);
      return typeof value === "boolean" ? String(value) : value ?? "";
    })));
  } catch (error) {
    table(grid.querySelector("tbody"), [[error.message]]);
  }
}

async function infrastructurePage() {
  await Promise.all([
    fillInfra("zones", "listZones", "zone", [["Name", (z) => z.name], ["Network type", (z) => z.networktype],
      ["Allocation", (z) => z.allocationstate], ["Guest CIDR", (z) => z.guestcidraddress]]),
    fillInfra("clusters", "listClusters", "cluster", [["Name", (c) => c.name], ["Zone", (c) => c.zonename],
      ["Pod", (c) => c.podname], ["Hypervisor", (c) => c.hypervisortype], ["Extension", (c) => c.extensionname],
      ["Allocation", (c) => c.allocationstate]]),
    fillInfra("hosts", "listHosts", "host", [["Name", (h) => h.name], ["Cluster", (h) => h.clustername],
      ["State", (h) => h.state], ["Resource state", (h) => h.resourcestate], ["Extension", (h) => h.extensionname]]),
    fillInfra("extensions", "listExtensions", "extension", [["Name", (e) => e.name], ["Type", (e) => e.type],
      ["State", (e) => e.state], ["Path ready", (e) => e.pathready], ["User-defined", (e) => e.isuserdefined],
      ["Path", (e) => e.path]]),
  ]);
}

// ---- start ---------------------------------------------------------------------------------------------

const PAGES = {
  login: loginPage,
  instances: instancesPage,
  deploy: deployPage,
  action: actionPage,
  infrastructure: infrastructurePage,
};

function chrome(page) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === page) link.setAttribute("aria-current", "page");
  }
  const who = document.getElementById("whoami");
  if (who) who.textContent = sessionStorage.getItem("sb.username") || "";
  // Infrastructure is for administrators (account type 1); others would only see refusals there.
  const type = sessionStorage.getItem("sb.accounttype");
  if (type && type !== "1") {
    for (const link of document.querySelectorAll('[data-nav="infrastructure"]')) link.hidden = true;
  }
  const pending = sessionStorage.getItem("sb.flash");
  if (pending) {
    sessionStorage.removeItem("sb.flash");
    try {
      const { text, kind } = JSON.parse(pending);
      flash(text, kind);
    } catch (_e) { /* ignore a damaged message */ }
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await api("logout"); } catch (_e) { /* the session may be gone already */ }
      sessionStorage.removeItem("sb.username");
      sessionStorage.removeItem("sb.accounttype");
      window.location.assign("/login");
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page !== "login" && !cookie("sessionkey")) {
    window.location.assign("/login");
    return;
  }
  chrome(page);
  const run = PAGES[page];
  if (run) run().catch((error) => flash(error.message, "error"));
});
