// Forms for API commands. A view names the parameters it offers (with labels and help in its own words);
// listApis supplies the rest — type, whether required, description, and `related` (the list command a
// uuid parameter's values come from, shown as a picker). A parameter the server does not accept is left
// out, so a field appears by itself once the server learns the parameter.
import { can, paramInfo } from "./api.js";
import { Dialog } from "./dialogs.js";
import { Field, check, isEmpty, utcFromLocal } from "./fields.js";
import { run } from "./jobs.js";
import { html, useRef, useState } from "./lib.js";
import { humanize } from "./format.js";

const TYPES = { boolean: "switch", integer: "integer", long: "integer", short: "integer", map: "map", date: "date" };

/**
 * Field specs for `command`: each spec (or bare parameter name) completed from listApis. Specs with
 * `local: true` are the form's own (not API parameters). Parameters unknown to the server are dropped.
 */
export function fromApi(command, specs) {
  const fields = [];
  for (const given of specs) {
    if (!given) continue;
    const spec = typeof given === "string" ? { name: given } : given;
    if (spec.local) {
      fields.push({ label: humanize(spec.name), type: "text", ...spec });
      continue;
    }
    const meta = paramInfo(command, spec.param || spec.name);
    if (!meta) continue;
    let type = TYPES[meta.type] || "text";
    // A uuid whose values come from a list the session may call is a picker; otherwise it is typed in.
    // `related` names every command answering that object (createZone,listZones): the list one lists them.
    const related = meta.type === "uuid" && meta.related ? listCommandOf(meta.related) : "";
    if (related && can(related)) type = "picker";
    else if (meta.type === "uuid") type = "uuid";
    fields.push({
      label: humanize(spec.name),
      // listApis' description as help, except for pickers (it only says "the ID of the zone").
      help: spec.help === undefined ? (type === "picker" ? null : sentence(meta.description)) : spec.help,
      required: Boolean(meta.required),
      related: related || undefined,
      ...spec,
      type: spec.type || type,
    });
  }
  return fields;
}

function listCommandOf(related) {
  return related.split(",").find((name) => name.startsWith("list")) || "";
}

function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "";
}

/** The initial values for `fields` (switches off, maps empty) overlaid with `initial`. */
export function initialValues(fields, initial = {}) {
  const values = {};
  for (const field of fields) {
    if (field.type === "switch") values[field.name] = false;
    else if (field.type === "map" || field.type === "checkboxes" || field.type === "custom") values[field.name] = [];
    else values[field.name] = "";
    if (field.initial !== undefined) values[field.name] = field.initial;
  }
  return { ...values, ...initial };
}

/** A map object from editor rows [{key, value}] (rows without a key are left out). */
export function mapOf(rows) {
  const map = {};
  for (const row of rows || []) if (row.key && row.key.trim()) map[row.key.trim()] = row.value ?? "";
  return map;
}

/** Editor rows from a map object. */
export function rowsOf(map) {
  return Object.entries(map || {}).map(([key, value]) => ({ key, value: String(value) }));
}

/** The API parameters for the form's values: switches as booleans, maps as maps, dates in UTC. */
export function paramsFrom(fields, values) {
  const params = {};
  for (const field of fields) {
    if (field.local || (field.when && !field.when(values))) continue;
    const value = values[field.name];
    const name = field.param || field.name;
    if (field.toParam) {
      const converted = field.toParam(value, values);
      if (converted !== undefined) params[name] = converted;
    } else if (field.type === "switch") {
      if (value || field.sendFalse !== false) params[name] = Boolean(value);
    } else if (field.type === "map") {
      const map = mapOf(value);
      if (Object.keys(map).length) params[name] = map;
    } else if (field.type === "datetime") {
      if (!isEmpty(value)) params[name] = utcFromLocal(value);
    } else if (!isEmpty(value)) {
      params[name] = typeof value === "string" ? value.trim() : value;
    }
  }
  return params;
}

/** Check every shown field; returns {name: message} for the ones with a problem. */
export function validate(fields, values) {
  const errors = {};
  for (const field of fields) {
    if (field.when && !field.when(values)) continue;
    const problem = check(field, values[field.name], values);
    if (problem) errors[field.name] = problem;
  }
  return errors;
}

/** The fields of a form, laid out in a responsive grid. */
export function Fields({ fields, values, errors, onChange, idPrefix }) {
  return html`<div class="form-grid">
    ${fields.filter((field) => !field.when || field.when(values)).map((field) => html`
      <${Field} key=${field.name} field=${field} value=${values[field.name]} error=${errors[field.name]}
        values=${values} idPrefix=${idPrefix} onChange=${(value) => onChange(field.name, value)} />`)}
  </div>`;
}

/**
 * A form that runs `command` with the fields' values (plus `extra` params, then `transform(params,
 * values)`), shown in the notification list as `label`. Client checks first; the server's refusal is shown
 * above the buttons. `onDone(result, values)` receives the response (the job result for async commands).
 */
export function ApiForm({
  command, fields, initial, extra = {}, transform, label, submitLabel = "Save", onDone, onCancel, idPrefix,
  intro, onStarted, href, children,
}) {
  const [values, setValues] = useState(() => initialValues(fields, initial));
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState("");
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const prefix = idPrefix || command;

  const change = (name, value) => {
    setValues((previous) => ({ ...previous, [name]: value }));
    if (errors[name]) setErrors((previous) => ({ ...previous, [name]: "" }));
  };

  const submit = async (event) => {
    event.preventDefault();
    setFailure("");
    const found = validate(fields, values);
    setErrors(found);
    const wrong = Object.keys(found);
    if (wrong.length) {
      const control = formRef.current && formRef.current.querySelector(`[data-field="${wrong[0]}"] input, [data-field="${wrong[0]}"] select, [data-field="${wrong[0]}"] textarea`);
      if (control) control.focus();
      return;
    }
    let params = { ...paramsFrom(fields, values), ...extra };
    if (transform) params = transform(params, values);
    setBusy(true);
    try {
      const result = await run(command, params, { label: typeof label === "function" ? label(values) : label || command,
        href, onStarted });
      setBusy(false);
      if (onDone) onDone(result, values);
    } catch (error) {
      setBusy(false);
      setFailure(error.message);
    }
  };

  const problems = Object.values(errors).filter(Boolean).length;
  return html`
    <form class="form" ref=${formRef} noValidate onSubmit=${submit} data-command=${command}>
      ${intro && html`<p class="form-intro">${intro}</p>`}
      <${Fields} fields=${fields} values=${values} errors=${errors} onChange=${change} idPrefix=${prefix} />
      ${children}
      ${problems > 0 && html`<p class="form-summary" role="alert">
        ${problems === 1 ? "One field needs attention." : `${problems} fields need attention.`}</p>`}
      ${failure && html`<div class="alert alert-error" role="alert"><strong>The server refused: </strong>${failure}</div>`}
      <div class="form-actions">
        ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
        <button type="submit" class="primary" disabled=${busy} aria-busy=${busy ? "true" : null}>
          ${busy ? "Working…" : submitLabel}</button>
      </div>
    </form>`;
}

/** An ApiForm in a dialog that closes once the command succeeded. */
export function FormDialog({ title, onClose, onDone, wide, ...form }) {
  return html`
    <${Dialog} title=${title} onClose=${onClose} wide=${wide}>
      <${ApiForm} ...${form} onCancel=${onClose} onDone=${(result, values) => { onClose(); if (onDone) onDone(result, values); }} />
    </${Dialog}>`;
}
