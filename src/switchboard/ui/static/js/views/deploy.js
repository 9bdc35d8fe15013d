// The deploy wizard: owner (your account or a project), zone, template (searchable), offering (custom
// sizes when the offering leaves them open), disks (a data disk from a disk offering, its size when the
// offering is custom, the root disk's size), network, access (SSH key pairs, user data as text or a
// registered one with its variables), name and details. Deploying opens the new instance's page, which
// follows the job. Steps for parameters the server does not declare are left out.
import { can, listAll, paramInfo } from "../api.js";
import { Field, check } from "../fields.js";
import { mapOf } from "../forms.js";
import { mebibytes, toBase64 } from "../format.js";
import { run } from "../jobs.js";
import { html, useEffect, useMemo, useState } from "../lib.js";
import { Alert, Card, Details, Page } from "../page.js";
import { useProjects } from "../projects.js";
import { navigate } from "../router.js";
import { paramsOf } from "./userdata.js";

// CloudStack's rule for instance names (the server checks the same): letters, digits and '-', starting
// with a letter, not ending with '-', at most 63 characters. Written to be valid under the `v` flag.
const NAME_PATTERN = "[A-Za-z](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?";
const FIELDS = {
  name: { name: "name", label: "Name", pattern: NAME_PATTERN, placeholder: "e.g. web-1", autocomplete: "off",
    help: "Optional. Letters, digits and '-', starting with a letter; also the host name.",
    patternMessage: "Use letters, digits and '-', start with a letter and do not end with '-' (at most 63)." },
  displayname: { name: "displayname", label: "Display name", help: "Optional. Shown instead of the name." },
  externaldetails: { name: "externaldetails", label: "Details for the extension", type: "map",
    help: "Optional key/value pairs passed to the extension (externaldetails)." },
  cpuNumber: { name: "cpuNumber", label: "vCPUs", type: "integer", required: true, min: 1 },
  cpuSpeed: { name: "cpuSpeed", label: "CPU speed (MHz)", type: "integer", min: 1 },
  memory: { name: "memory", label: "Memory (MiB)", type: "integer", required: true, min: 1 },
  size: { name: "size", label: "Data disk size (GiB)", type: "integer", required: true, min: 1 },
  rootdisksize: { name: "rootdisksize", label: "Root disk size (GiB)", type: "integer", min: 1,
    help: "Optional. Left empty: the offering's or the template's size." },
  userdata: { name: "userdata", label: "User data", type: "textarea", rows: 7, required: true,
    placeholder: "#cloud-config\npackages: [nginx]", help: "Cloud-init user data or a script, as text (sent base64-encoded)." },
};

function Choices({ legend, name, items, value, onChange, label, detail, empty }) {
  if (items === null) return html`<p class="loading" role="status">Loading…</p>`;
  if (!items.length) return html`<p class="muted">${empty}</p>`;
  return html`
    <fieldset class="choices plain" role="radiogroup" aria-label=${legend}>
      ${items.map((item) => html`
        <label class="choice" key=${item.id} data-choice=${item.name}>
          <input type="radio" name=${name} value=${item.id} checked=${value === item.id} onChange=${() => onChange(item.id)} />
          <span class="choice-text"><span class="choice-name">${label(item)}</span>
            ${detail && detail(item) && html`<span class="choice-detail">${detail(item)}</span>`}</span>
        </label>`)}
    </fieldset>`;
}

/** Like Choices, with checkboxes: any number of items (SSH key pairs). */
function ManyChoices({ legend, items, value, onChange, label, detail, empty }) {
  if (items === null) return html`<p class="loading" role="status">Loading…</p>`;
  if (!items.length) return html`<p class="muted">${empty}</p>`;
  const toggle = (id, on) => onChange(on ? [...value, id] : value.filter((item) => item !== id));
  return html`
    <fieldset class="choices plain" aria-label=${legend}>
      ${items.map((item) => html`
        <label class="choice" key=${item.id} data-choice=${item.name}>
          <input type="checkbox" value=${item.id} checked=${value.includes(item.id)} onChange=${(event) => toggle(item.id, event.currentTarget.checked)} />
          <span class="choice-text"><span class="choice-name">${label(item)}</span>
            ${detail && detail(item) && html`<span class="choice-detail">${detail(item)}</span>`}</span>
        </label>`)}
    </fieldset>`;
}

/** A row of radio buttons that look like a segmented control. */
function Segmented({ legend, name, options, value, onChange }) {
  return html`<fieldset class="segmented" role="radiogroup" aria-label=${legend}>
    ${options.map(([option, text]) => html`<label key=${option} class=${value === option ? "on" : ""}>
      <input type="radio" name=${name} value=${option} checked=${value === option} onChange=${() => onChange(option)} />
      <span>${text}</span></label>`)}
  </fieldset>`;
}

function Step({ title, children, id }) {
  return html`<${Card} className="step" title=${html`<span class="step-title" id=${id}>${title}</span>`}>${children}</${Card}>`;
}

const declared = (name) => Boolean(paramInfo("deployVirtualMachine", name));

export default function Deploy({ query }) {
  const projects = useProjects();
  const [zones, setZones] = useState(null);
  const [templates, setTemplates] = useState(null);
  const [offerings, setOfferings] = useState(null);
  const [diskOfferings, setDiskOfferings] = useState(null);
  const [networks, setNetworks] = useState(null);
  const [keypairs, setKeypairs] = useState(null);
  const [registered, setRegistered] = useState(null);
  const [values, setValues] = useState({ projectid: query.get("projectid") || "", zoneid: "", templateid: "",
    serviceofferingid: "", diskofferingid: "", size: "", rootdisksize: "", networkid: "", keypairs: [], userdataMode: "none",
    userdata: "", userdataid: "", userdatadetails: {}, name: "", displayname: "", externaldetails: [], cpuNumber: "",
    cpuSpeed: "", memory: "" });
  const [search, setSearch] = useState("");
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (name, value) => { setValues((previous) => ({ ...previous, [name]: value })); setErrors((previous) => ({ ...previous, [name]: "" })); };
  // CloudStack takes `keypairs` (a list, 4.17+) or `keypair`; whichever the server declares is used.
  const keyParam = ["keypairs", "keypair"].find(declared);
  const withKeys = Boolean(keyParam) && can("listSSHKeyPairs");
  const withUserData = declared("userdata");
  const withRegistered = declared("userdataid") && can("listUserData");
  const withDisks = declared("diskofferingid") && can("listDiskOfferings");
  const withProjects = declared("projectid") && Boolean(projects && projects.length);
  const owner = values.projectid ? { projectid: values.projectid } : {};

  useEffect(() => {
    const fail = (error) => setFailure(error.message);
    listAll("listZones", { available: true }).then((found) => { setZones(found); if (found.length) set("zoneid", found[0].id); }, fail);
    listAll("listServiceOfferings").then((found) => { setOfferings(found); if (found.length) set("serviceofferingid", found[0].id); }, fail);
    if (withDisks) listAll("listDiskOfferings").then(setDiskOfferings, fail);
  }, []);

  // What an owner has: its key pairs and registered user data (a project's are the project's own).
  useEffect(() => {
    const fail = (error) => setFailure(error.message);
    setKeypairs(null);
    setRegistered(null);
    set("keypairs", []);
    set("userdataid", "");
    if (withKeys) listAll("listSSHKeyPairs", owner).then(setKeypairs, fail);
    if (withRegistered) listAll("listUserData", owner).then(setRegistered, fail);
  }, [values.projectid]);

  useEffect(() => {
    if (!values.zoneid) return;
    setTemplates(null);
    const fail = (error) => setFailure(error.message);
    listAll("listTemplates", { templatefilter: "executable", zoneid: values.zoneid }).then((found) => {
      setTemplates(found);
      set("templateid", found.length ? found[0].id : "");
    }, fail);
  }, [values.zoneid]);

  useEffect(() => {
    if (!values.zoneid) return;
    setNetworks(null);
    const fail = (error) => setFailure(error.message);
    listAll("listNetworks", { zoneid: values.zoneid, canusefordeploy: true, ...owner }).then((found) => {
      setNetworks(found);
      set("networkid", found.length ? found[0].id : "");
    }, fail);
  }, [values.zoneid, values.projectid]);

  const offering = (offerings || []).find((item) => item.id === values.serviceofferingid);
  const custom = Boolean(offering && offering.iscustomized);
  const disk = (diskOfferings || []).find((item) => item.id === values.diskofferingid);
  const customDisk = Boolean(disk && disk.iscustomized);
  const zone = (zones || []).find((item) => item.id === values.zoneid);
  const template = (templates || []).find((item) => item.id === values.templateid);
  const network = (networks || []).find((item) => item.id === values.networkid);
  const project = (projects || []).find((item) => item.id === values.projectid);
  const script = (registered || []).find((item) => item.id === values.userdataid);
  const variables = paramsOf(script);
  const shownTemplates = useMemo(() => {
    const words = search.trim().toLowerCase();
    return templates && words ? templates.filter((item) => `${item.name} ${item.displaytext} ${item.extensionname || ""}`.toLowerCase().includes(words)) : templates;
  }, [templates, search]);
  const checked = [FIELDS.name, FIELDS.displayname, FIELDS.externaldetails,
    ...(custom ? [FIELDS.cpuNumber, FIELDS.cpuSpeed, FIELDS.memory] : []), ...(customDisk ? [FIELDS.size] : []),
    ...(declared("rootdisksize") ? [FIELDS.rootdisksize] : []), ...(values.userdataMode === "text" ? [FIELDS.userdata] : [])];

  const submit = async (event) => {
    event.preventDefault();
    setFailure("");
    const found = {};
    for (const field of checked) {
      const problem = check(field, values[field.name]);
      if (problem) found[field.name] = problem;
    }
    for (const [name, what] of [["zoneid", "a zone"], ["templateid", "a template"], ["serviceofferingid", "an offering"]]) {
      if (!values[name]) found[name] = `Choose ${what}.`;
    }
    if (values.userdataMode === "registered" && !values.userdataid) found.userdataid = "Choose the user data to give.";
    setErrors(found);
    if (Object.keys(found).length) {
      const first = Object.keys(found)[0];
      const control = document.querySelector(`[data-field="${first}"] input, [data-field="${first}"] textarea, [data-step="${first}"] input, [data-step="${first}"] select`);
      if (control) control.focus();
      return;
    }
    const params = { zoneid: values.zoneid, templateid: values.templateid, serviceofferingid: values.serviceofferingid,
      name: values.name.trim(), displayname: values.displayname.trim(), externaldetails: mapOf(values.externaldetails), ...owner };
    if (values.networkid) params.networkids = [values.networkid];
    if (custom) params.details = { cpuNumber: values.cpuNumber, memory: values.memory, ...(values.cpuSpeed ? { cpuSpeed: values.cpuSpeed } : {}) };
    if (values.diskofferingid) {
      params.diskofferingid = values.diskofferingid;
      if (customDisk) params.size = values.size;
    }
    if (values.rootdisksize) params.rootdisksize = values.rootdisksize;
    if (withKeys && values.keypairs.length) params[keyParam] = keyParam === "keypairs" ? values.keypairs : values.keypairs[0];
    if (values.userdataMode === "text") params.userdata = toBase64(values.userdata);
    if (values.userdataMode === "registered") {
      params.userdataid = values.userdataid;
      const filled = Object.fromEntries(variables.filter((name) => (values.userdatadetails[name] || "").trim())
        .map((name) => [name, values.userdatadetails[name].trim()]));
      if (Object.keys(filled).length) params.userdatadetails = filled;
    }
    setBusy(true);
    const label = `Deploy ${values.name.trim() || (template ? template.name : "an instance")}`;
    try {
      const page = (reply) => `/instances/${reply.id}${values.projectid ? `?projectid=${values.projectid}` : ""}`;
      await run("deployVirtualMachine", params, { label, href: page, onStarted: (reply) => navigate(page(reply)) });
    } catch (error) {
      // Before the job started (a refusal: a limit, a bad value) the wizard is still shown: say why here.
      setBusy(false);
      setFailure(error.message);
    }
  };

  const stepError = (name) => errors[name] && html`<p class="field-error" role="alert">${errors[name]}</p>`;
  const field = (spec) => html`<${Field} key=${spec.name} field=${spec} value=${values[spec.name]} error=${errors[spec.name]}
    idPrefix="deploy" onChange=${(value) => set(spec.name, value)} />`;
  return html`
    <${Page} title="Deploy an instance" crumbs=${[["Instances", "/instances"]]}>
      <form class="wizard" id="deploy-form" noValidate onSubmit=${submit}>
        <div class="steps">
          ${withProjects && html`<${Step} title="Owner">
            <div data-step="projectid"><${Choices} legend="Owner" name="projectid"
              items=${[{ id: "", name: "Your account" }, ...projects]} value=${values.projectid}
              onChange=${(id) => set("projectid", id)} label=${(item) => item.name}
              detail=${(item) => (item.id ? `Project${item.displaytext && item.displaytext !== item.name ? ` · ${item.displaytext}` : ""}` : "The instance is yours")}
              empty="" /></div>
          </${Step}>`}
          <${Step} title="Zone">
            <div data-step="zoneid"><${Choices} legend="Zone" name="zoneid" items=${zones} value=${values.zoneid}
              onChange=${(id) => set("zoneid", id)} label=${(item) => item.name} detail=${(item) => item.description}
              empty="No zone is available to you." /></div>${stepError("zoneid")}
          </${Step}>
          <${Step} title="Template">
            <div class="search template-search">
              <label class="visually-hidden" for="template-search">Search templates</label>
              <input id="template-search" type="search" placeholder="Search templates" value=${search}
                onInput=${(event) => setSearch(event.currentTarget.value)} />
            </div>
            <div data-step="templateid"><${Choices} legend="Template" name="templateid" items=${shownTemplates} value=${values.templateid}
              onChange=${(id) => set("templateid", id)} label=${(item) => item.name}
              detail=${(item) => [item.displaytext !== item.name && item.displaytext, item.extensionname && `Extension ${item.extensionname}`].filter(Boolean).join(" · ")}
              empty=${search ? "No template matches." : "No template can be deployed in this zone."} /></div>${stepError("templateid")}
          </${Step}>
          <${Step} title="Service offering">
            <div data-step="serviceofferingid"><${Choices} legend="Service offering" name="serviceofferingid" items=${offerings}
              value=${values.serviceofferingid} onChange=${(id) => set("serviceofferingid", id)} label=${(item) => item.name}
              detail=${(item) => item.iscustomized ? "Custom size: you choose" : `${item.cpunumber} vCPU · ${item.cpuspeed} MHz · ${mebibytes(item.memory)}`}
              empty="No service offering exists." /></div>${stepError("serviceofferingid")}
            ${custom && html`<div class="inline-fields">${[FIELDS.cpuNumber, FIELDS.cpuSpeed, FIELDS.memory].map(field)}</div>`}
          </${Step}>
          ${(withDisks || declared("rootdisksize")) && html`<${Step} title="Disks">
            ${withDisks && html`<div data-step="diskofferingid"><${Choices} legend="Data disk" name="diskofferingid"
              items=${diskOfferings === null ? null : [{ id: "", name: "No data disk" }, ...diskOfferings]}
              value=${values.diskofferingid} onChange=${(id) => set("diskofferingid", id)} label=${(item) => item.name}
              detail=${(item) => (!item.id ? "The root disk only" : item.iscustomized ? "Data disk: you choose the size" : `Data disk · ${item.disksize} GiB`)}
              empty="" /></div>`}
            <div class="inline-fields">
              ${customDisk && field(FIELDS.size)}
              ${declared("rootdisksize") && field(FIELDS.rootdisksize)}
            </div>
          </${Step}>`}
          <${Step} title="Network">
            <${Choices} legend="Network" name="networkid" items=${networks === null ? null : [...networks, { id: "", name: "Default network" }]}
              value=${values.networkid} onChange=${(id) => set("networkid", id)} label=${(item) => item.name}
              detail=${(item) => item.id ? `${item.type}${item.cidr ? ` · ${item.cidr}` : ""}${item.vlan ? ` · VLAN ${item.vlan}` : ""}` : "The owner's only Isolated network in the zone; the server makes one when there is none."}
              empty="" />
          </${Step}>
          ${(withKeys || withUserData) && html`<${Step} title="Access">
            ${withKeys && html`<div class="sub-step" data-step="keypairs">
              <h3 class="sub-title">SSH key pairs</h3>
              <${ManyChoices} legend="SSH key pairs" items=${keypairs && keypairs.map((pair) => ({ ...pair, id: pair.name }))}
                value=${values.keypairs} onChange=${(chosen) => set("keypairs", chosen)} label=${(pair) => pair.name}
                detail=${(pair) => pair.fingerprint}
                empty=${html`No key pairs${project ? " in this project" : ""} yet. ${can("registerSSHKeyPair") ? html`<a href="/sshkeys">Add one</a>.` : ""}`} />
              <p class="field-help">Their public keys are put into the guest (cloud-init), for logging in with SSH.</p>
            </div>`}
            ${withUserData && html`<div class="sub-step" data-step="userdataid">
              <h3 class="sub-title">User data</h3>
              <${Segmented} legend="User data" name="userdataMode" value=${values.userdataMode} onChange=${(mode) => set("userdataMode", mode)}
                options=${[["none", "None"], ["text", "Write it"], ...(withRegistered ? [["registered", "Registered"]] : [])]} />
              ${values.userdataMode === "text" && html`<div class="form-grid">${field(FIELDS.userdata)}</div>`}
              ${values.userdataMode === "registered" && html`<div class="form-grid">
                <div class="field wide" data-field="userdataid">
                  <label for="deploy-userdataid">Registered user data</label>
                  <select id="deploy-userdataid" value=${values.userdataid} aria-invalid=${errors.userdataid ? "true" : null}
                    onChange=${(event) => { set("userdataid", event.currentTarget.value); set("userdatadetails", {}); }}>
                    <option value="">${registered === null ? "Loading…" : registered.length ? "Choose…" : "None registered"}</option>
                    ${(registered || []).map((item) => html`<option value=${item.id}>${item.name}</option>`)}
                  </select>
                  ${errors.userdataid && html`<p class="field-error">${errors.userdataid}</p>`}
                </div>
                ${variables.map((name) => html`<${Field} key=${name} idPrefix="deploy-var"
                  field=${{ name, label: name, help: `Fills {{ ds.meta_data.${name} }}.` }} value=${values.userdatadetails[name] || ""}
                  onChange=${(value) => set("userdatadetails", { ...values.userdatadetails, [name]: value })} />`)}
              </div>`}
            </div>`}
          </${Step}>`}
          <${Step} title="Name and details">
            <div class="form-grid">${[FIELDS.name, FIELDS.displayname, FIELDS.externaldetails].map(field)}</div>
          </${Step}>
        </div>
        <aside class="wizard-summary">
          <${Card} title="Summary">
            <${Details} className="summary-list" rows=${[
              withProjects && ["Owner", project ? `Project ${project.name}` : "Your account"],
              ["Zone", zone && zone.name], ["Template", template && template.name],
              ["Offering", offering && (custom ? `${offering.name} (${values.cpuNumber || "?"} vCPU, ${values.memory || "?"} MiB)` : offering.name)],
              withDisks && ["Data disk", disk ? `${disk.name}${customDisk ? ` (${values.size || "?"} GiB)` : ` (${disk.disksize} GiB)`}` : "None"],
              ["Network", network ? network.name : "Default"],
              withKeys && ["SSH keys", values.keypairs.length ? values.keypairs.join(", ") : "None"],
              withUserData && ["User data", values.userdataMode === "text" ? "Written here" : values.userdataMode === "registered" ? (script ? script.name : "?") : "None"],
              ["Name", values.name || "chosen by the server"],
            ]} />
            ${failure && html`<${Alert} kind="error"><strong>The server refused: </strong><span id="deploy-refusal">${failure}</span></${Alert}>`}
            <div class="form-actions">
              <button type="submit" class="primary block" disabled=${busy}>${busy ? "Deploying…" : "Deploy"}</button>
            </div>
          </${Card}>
        </aside>
      </form>
    </${Page}>`;
}
