// Run Action, as CloudStack's RunCustomAction form: the instance's enabled custom actions, a form built
// from the chosen action's parameter definitions, client checks that mirror the server's
// (validateParameterValues), and the result — a table when the executable printed one (`printmessage`).
import { listAll } from "../api.js";
import { Field, check, utcFromLocal } from "../fields.js";
import { humanize } from "../format.js";
import { run } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert } from "../page.js";
import { nameOf } from "./vm_actions.js";

const FORMAT_TYPES = { EMAIL: "email", URL: "url", UUID: "uuid", PASSWORD: "password" };

/** The form field for one parameter definition {name, type, validationformat, valueoptions, required}. */
export function parameterField(param) {
  const options = param.valueoptions || [];
  const base = { name: param.name, param: param.name, required: Boolean(param.required),
    // The readable label, and the name the executable receives where it reads differently.
    label: humanize(param.name).toLowerCase() === param.name.toLowerCase() ? humanize(param.name)
      : html`${humanize(param.name)}<code class="param-name">${param.name}</code>` };
  const labelText = humanize(param.name);
  const field = { ...base, labelText };
  if (param.type === "BOOLEAN") return { ...field, type: "switch", required: false };
  if (options.length) return { ...field, type: "select", options: options.map(String), blank: param.required ? "Choose…" : "" };
  if (param.type === "DATE") return { ...field, type: "datetime", help: "Your local time; sent in UTC." };
  if (param.type === "NUMBER") {
    return param.validationformat === "DECIMAL" ? { ...field, type: "decimal", help: "A number; decimals allowed." }
      : { ...field, type: "integer", help: "A whole number." };
  }
  return { ...field, type: FORMAT_TYPES[param.validationformat] || "text" };
}

function problemOf(field, value) {
  // check() words its messages with `label`; parameters use their readable name.
  return check({ ...field, label: field.labelText }, value);
}

function parseDetails(details) {
  try { return JSON.parse(details); } catch (_error) { return null; }
}

/** The executable's output: a table when it printed rows (`printmessage` "true"), else its text. */
export function ResultDetails({ details }) {
  const parsed = parseDetails(details);
  const printed = parsed && typeof parsed === "object" && String(parsed.printmessage) === "true" ? parsed.message : undefined;
  const rows = Array.isArray(printed) ? printed : printed && typeof printed === "object" ? [printed] : null;
  const show = (value) => (value !== null && typeof value === "object" ? JSON.stringify(value) : String(value ?? ""));
  if (rows && rows.length && rows.every((row) => row && typeof row === "object" && !Array.isArray(row))) {
    const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    return html`<div class="result-table"><table>
      <thead><tr>${keys.map((key) => html`<th scope="col">${key}</th>`)}</tr></thead>
      <tbody>${rows.map((row) => html`<tr>${keys.map((key) => html`<td>${show(row[key])}</td>`)}</tr>`)}</tbody>
    </table></div>`;
  }
  if (printed !== undefined) return html`<pre class="output">${show(printed)}</pre>`;
  return details ? html`<pre class="output">${details}</pre>` : html`<p class="muted">No output.</p>`;
}

function Result({ result }) {
  const outcome = result.result || {};
  return html`
    <section class="card result" id="action-result" aria-labelledby="result-title" tabIndex="-1">
      <div class="result-head">
        <h2 id="result-title">Result of ${result.name}</h2>
        <span id="result-success" class=${result.success ? "badge badge-ok" : "badge badge-bad"}>
          ${result.success ? "Succeeded" : "Failed"}</span>
      </div>
      ${outcome.message && html`<p class="result-message" id="result-message">${outcome.message}</p>`}
      <div id="result-details"><${ResultDetails} details=${outcome.details} /></div>
    </section>`;
}

export function RunAction({ vm }) {
  const [actions, setActions] = useState(null);
  const [failure, setFailure] = useState("");
  const [chosen, setChosen] = useState("");
  const [values, setValues] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const [refusal, setRefusal] = useState("");

  useEffect(() => {
    listAll("listCustomActions", { resourcetype: "VirtualMachine", resourceid: vm.id, enabled: true }).then(
      (found) => { setActions(found); if (found.length) setChosen(found[0].id); },
      (error) => { setActions([]); setFailure(error.message); },
    );
  }, [vm.id]);

  const action = (actions || []).find((item) => item.id === chosen);
  const fields = ((action && action.parameters) || []).map(parameterField);
  useEffect(() => {
    const initial = {};
    for (const field of fields) initial[field.name] = field.type === "switch" ? false : "";
    setValues(initial);
    setErrors({});
    setResult(null);
    setRefusal("");
  }, [chosen]);

  if (actions === null) return html`<p class="loading" role="status">Loading the actions…</p>`;
  if (failure) return html`<${Alert} kind="error">${failure}</${Alert}>`;
  if (!actions.length) {
    return html`<${Alert} kind="info">The extension of this instance${vm.extensionname ? ` (${vm.extensionname})` : ""} offers
      no custom actions you may run.</${Alert}>`;
  }

  const submit = async (event) => {
    event.preventDefault();
    setRefusal("");
    const found = {};
    for (const field of fields) {
      const problem = problemOf(field, values[field.name]);
      if (problem) found[field.name] = problem;
    }
    setErrors(found);
    const wrong = Object.keys(found);
    if (wrong.length) {
      const control = document.getElementById(`param-${wrong[0]}`);
      if (control) control.focus();
      return;
    }
    const parameters = {};
    for (const field of fields) {
      const value = values[field.name];
      if (field.type === "switch") parameters[field.name] = value ? "true" : "false";
      else if (value !== "" && value !== undefined) parameters[field.name] = field.type === "datetime" ? utcFromLocal(value) : String(value).trim();
    }
    setBusy(true);
    setResult(null);
    try {
      const reply = await run("runCustomAction",
        { customactionid: action.id, resourceid: vm.id, resourcetype: "VirtualMachine", parameters },
        { label: `${action.name} on ${nameOf(vm)}`, href: `/instances/${vm.id}?tab=action` });
      setResult(reply.customactionresult || { name: action.name, success: false, result: { message: "No result" } });
      requestAnimationFrame(() => { const box = document.getElementById("action-result"); if (box) box.focus(); });
    } catch (error) {
      setRefusal(error.message);
    } finally {
      setBusy(false);
    }
  };

  const problems = Object.values(errors).filter(Boolean).length;
  return html`
    <div class="run-action">
      <form class="card form" id="action-form" noValidate onSubmit=${submit} aria-label="Run a custom action">
        <div class="form-grid">
          <div class="field wide">
            <label for="action-select">Action</label>
            <select id="action-select" name="customactionid" value=${chosen} onChange=${(event) => setChosen(event.currentTarget.value)}
              aria-describedby="action-description">
              ${actions.map((item) => html`<option value=${item.id}>${item.name}</option>`)}
            </select>
            <p class="field-help" id="action-description">${action && action.description}</p>
          </div>
          ${fields.map((field) => html`<${Field} key=${`${chosen}-${field.name}`} field=${field} idPrefix="param"
            value=${values[field.name]} error=${errors[field.name]} values=${values}
            onChange=${(value) => { setValues({ ...values, [field.name]: value }); setErrors({ ...errors, [field.name]: "" }); }} />`)}
        </div>
        ${fields.length === 0 && html`<p class="muted">This action takes no parameters.</p>`}
        ${problems > 0 && html`<p class="form-summary" role="alert">${problems === 1 ? "One parameter needs attention." : `${problems} parameters need attention.`}</p>`}
        ${refusal && html`<div class="alert alert-error" role="alert" id="action-refusal"><strong>The server refused: </strong>${refusal}</div>`}
        <div class="form-actions">
          <button type="submit" class="primary" disabled=${busy} aria-busy=${busy ? "true" : null}>${busy ? "Running…" : `Run ${action ? action.name : ""}`}</button>
        </div>
      </form>
      ${result && html`<${Result} result=${result} />`}
    </div>`;
}
