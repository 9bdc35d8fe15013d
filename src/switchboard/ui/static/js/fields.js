// Form fields: one control per field spec, each labelled, with its help text and its error tied to it for
// screen readers, and the client-side checks (which mirror the server's, so a refusal is rare and the
// server's message is still shown when one comes).
//
// A field spec: { name, label, type, required, help, placeholder, options, related, relatedParams,
//   relatedLabel, pattern, patternMessage, min, max, step, autocomplete, validate, when, wide, disabled }
// types: text password email url uuid integer decimal select picker switch datetime date textarea map
import { listAll } from "./api.js";
import { html, useEffect, useState } from "./lib.js";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// The server's e-mail rule for custom action parameters (CloudStack's).
const EMAIL = /^[A-Za-z0-9+_.-]+@[A-Za-z0-9.-]+$/;

export function isEmpty(value) {
  if (Array.isArray(value)) return value.every((entry) => !entry || !String(entry.key ?? entry).trim());
  return value === null || value === undefined || String(value).trim() === "";
}

function validUrl(text) {
  try {
    const url = new URL(text);
    return Boolean(url.protocol && url.host);
  } catch (_error) {
    return false;
  }
}

/** The problem with `value` for `field`, as a sentence, or "" when it is fine. */
export function check(field, value, values = {}) {
  const label = field.label || field.name;
  if (field.type === "switch" || field.type === "custom") return field.validate ? field.validate(value, values) || "" : "";
  if (field.type === "checkboxes") {
    if (field.required && !(value || []).length) return `Choose at least one ${String(label).toLowerCase()}.`;
    return field.validate ? field.validate(value, values) || "" : "";
  }
  if (isEmpty(value)) return field.required ? `${label} is required.` : "";
  const text = String(value).trim();
  switch (field.type) {
    case "email":
      if (!EMAIL.test(text)) return `${label} must be an e-mail address, like name@example.com.`;
      break;
    case "url":
      if (!validUrl(text)) return `${label} must be a full URL, like https://example.com/path.`;
      break;
    case "uuid":
      if (!UUID.test(text)) return `${label} must be a UUID, like 123e4567-e89b-12d3-a456-426614174000.`;
      break;
    case "integer":
      if (!/^-?\d+$/.test(text)) return `${label} must be a whole number.`;
      break;
    case "decimal":
      if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return `${label} must be a number.`;
      break;
    case "map": {
      const keys = value.map((entry) => entry.key.trim()).filter(Boolean);
      const twice = keys.find((key, index) => keys.indexOf(key) !== index);
      if (twice) return `The key ${twice} is given twice.`;
      break;
    }
    default:
  }
  if ((field.type === "integer" || field.type === "decimal") && text !== "") {
    const number = Number(text);
    if (field.min !== undefined && number < field.min) return `${label} must be at least ${field.min}.`;
    if (field.max !== undefined && number > field.max) return `${label} must be at most ${field.max}.`;
  }
  if (field.options && field.type === "select") {
    const allowed = optionList(field.options).map(([option]) => String(option));
    if (!allowed.includes(text)) return `${label} must be one of: ${allowed.join(", ")}.`;
  }
  if (field.pattern && !new RegExp(`^(?:${field.pattern})$`, "v").test(text)) {
    return field.patternMessage || `${label} is not in the expected form.`;
  }
  if (field.validate) return field.validate(value, values) || "";
  return "";
}

/** Options as [value, label] pairs, from ["a", "b"], [["a", "A"]] or [{value, label}]. */
export function optionList(options) {
  return (options || []).map((option) => {
    if (Array.isArray(option)) return option;
    if (option && typeof option === "object") return [option.value, option.label ?? option.value];
    return [option, option];
  });
}

/** A value of a datetime-local input (local time) as the API's UTC form `yyyy-MM-ddTHH:mm:ssZ`. */
export function utcFromLocal(text) {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function MapEditor({ id, field, value, onChange, describedBy }) {
  // Rows are [{key, value}]; the form turns them into a map parameter (`name[0].key=value`).
  const rows = value && value.length ? value : [{ key: "", value: "" }];
  const set = (index, part, text) => onChange(rows.map((row, at) => (at === index ? { ...row, [part]: text } : row)));
  const remove = (index) => onChange(rows.filter((_row, at) => at !== index));
  const secret = (key) => field.secret === true || (field.secret !== false && /pass|secret|token|key$/i.test(key));
  return html`
    <div class="map-editor" id=${id} role="group" aria-labelledby=${`${id}-label`} aria-describedby=${describedBy}>
      ${rows.map((row, index) => html`
        <div class="map-row" key=${index}>
          <input class="map-key" aria-label=${`${field.label} ${index + 1}: key`} placeholder="key" value=${row.key}
            autocomplete="off" spellcheck=${false} onInput=${(event) => set(index, "key", event.currentTarget.value)} />
          <input class="map-value" aria-label=${`${field.label} ${index + 1}: value`} placeholder="value"
            type=${secret(row.key) ? "password" : "text"} autocomplete=${secret(row.key) ? "new-password" : "off"}
            spellcheck=${false} value=${row.value} onInput=${(event) => set(index, "value", event.currentTarget.value)} />
          <button type="button" class="icon-button" aria-label=${`Remove ${field.label.toLowerCase()} ${row.key || index + 1}`}
            onClick=${() => remove(index)}>×</button>
        </div>`)}
      <button type="button" class="small" onClick=${() => onChange([...rows, { key: "", value: "" }])}>
        + Add ${field.itemLabel || "detail"}</button>
    </div>`;
}

function Picker({ field, values, value, onChange, common }) {
  const [options, setOptions] = useState(null);
  const [failure, setFailure] = useState("");
  const valueOf = field.relatedValue || ((item) => item.id);
  const params = typeof field.relatedParams === "function" ? field.relatedParams(values) : field.relatedParams || {};
  const depends = JSON.stringify(params);
  useEffect(() => {
    let live = true;
    setOptions(null);
    listAll(field.related, params).then(
      (items) => {
        if (!live) return;
        setOptions(items);
        // A required choice starts on the first option, as the select shows it.
        if (field.required && items.length && !items.some((item) => valueOf(item) === value)) onChange(valueOf(items[0]));
      },
      (error) => { if (live) setFailure(error.message); },
    );
    return () => { live = false; };
  }, [field.related, depends]);
  const label = field.relatedLabel || ((item) => item.name || item.displaytext || item.id);
  if (failure) return html`<p class="field-note error-text" id=${common.id}>${failure}</p>`;
  return html`
    <select ...${common} aria-busy=${options === null ? "true" : null}>
      ${(!field.required || options === null || !options.length) && html`<option value="">
        ${options === null ? "Loading…" : options.length ? field.blank || "(none)" : "None available"}</option>`}
      ${(options || []).map((item) => html`<option value=${valueOf(item)}>${label(item)}</option>`)}
    </select>`;
}

/** One labelled control for `field`. */
export function Field({ field, value, error, values, onChange, idPrefix = "f" }) {
  const id = `${idPrefix}-${field.name}`;
  const helpId = field.help ? `${id}-help` : null;
  const errorId = error ? `${id}-error` : null;
  const describedBy = [helpId, errorId].filter(Boolean).join(" ") || null;
  const common = {
    id, name: field.name, "aria-describedby": describedBy, "aria-invalid": error ? "true" : null,
    "aria-required": field.required ? "true" : null, disabled: field.disabled, "data-param": field.param,
    value: value ?? "", onInput: (event) => onChange(event.currentTarget.value),
  };
  let control;
  switch (field.type) {
    case "switch":
      control = html`<input ...${common} type="checkbox" role="switch" class="switch" checked=${value === true}
        value=${null} onInput=${null} onChange=${(event) => onChange(event.currentTarget.checked)} />`;
      break;
    case "select":
      control = html`<select ...${common} onInput=${null} onChange=${(event) => onChange(event.currentTarget.value)}>
        ${(!field.required || value === "" || value === undefined) && html`<option value="">${field.blank || ""}</option>`}
        ${optionList(field.options).map(([option, text]) => html`<option value=${option}>${text}</option>`)}
      </select>`;
      break;
    case "picker":
      control = html`<${Picker} field=${field} values=${values} value=${value} onChange=${onChange}
        common=${{ ...common, onInput: null, onChange: (event) => onChange(event.currentTarget.value) }} />`;
      break;
    case "textarea":
      control = html`<textarea ...${common} rows=${field.rows || 4} placeholder=${field.placeholder}
        spellcheck=${false}></textarea>`;
      break;
    case "map":
      control = html`<${MapEditor} id=${id} field=${field} value=${value} onChange=${onChange} describedBy=${describedBy} />`;
      break;
    case "checkboxes":
      control = html`<div class="checkboxes" id=${id} role="group" aria-labelledby=${`${id}-label`} aria-describedby=${describedBy}>
        ${optionList(field.options).map(([option, text]) => {
          const locked = (field.locked || []).includes(option);
          const on = locked || (value || []).includes(option);
          return html`<label class="check" key=${option}><input type="checkbox" value=${option} checked=${on} disabled=${locked}
            onChange=${(event) => onChange(event.currentTarget.checked ? [...(value || []), option] : (value || []).filter((item) => item !== option))} />
            <span>${text}</span></label>`;
        })}</div>`;
      break;
    case "custom":
      control = field.render({ id, value, onChange, field, error, describedBy });
      break;
    default: {
      const types = { password: "password", email: "email", url: "url", integer: "number", decimal: "number",
        datetime: "datetime-local", date: "date" };
      control = html`<input ...${common} type=${types[field.type] || "text"}
        step=${field.type === "integer" ? "1" : field.type === "decimal" ? "any" : field.type === "datetime" ? "1" : null}
        inputmode=${field.type === "decimal" ? "decimal" : field.type === "integer" ? "numeric" : null}
        min=${field.min} max=${field.max} placeholder=${field.placeholder} pattern=${field.pattern}
        autocomplete=${field.autocomplete || (field.type === "password" ? "new-password" : "off")}
        spellcheck=${field.type === "text" ? null : false} />`;
    }
  }
  // The required mark sits beside the label, not in it: the label stays the control's plain name, and
  // aria-required tells screen readers.
  const mark = field.required && field.type !== "switch" ? html`<span class="required" aria-hidden="true">*</span>` : null;
  const wrapperClass = ["field", field.type === "switch" ? "field-switch" : "", field.wide ? "wide" : "",
    error ? "has-error" : ""].join(" ").trim();
  const isGroup = ["map", "checkboxes", "custom"].includes(field.type);
  return html`
    <div class=${wrapperClass} data-field=${field.name}>
      <div class="field-label">${isGroup ? html`<span class="label" id=${`${id}-label`}>${field.label}</span>`
        : html`<label for=${id}>${field.label}</label>`}${mark}</div>
      ${field.type === "switch" ? html`<div class="switch-row">${control}${field.switchText && html`<span class="muted">${field.switchText}</span>`}</div>` : control}
      ${field.help && html`<p class="field-help" id=${helpId}>${field.help}</p>`}
      ${error && html`<p class="field-error" id=${errorId}>${error}</p>`}
    </div>`;
}
