// The custom action editor (add and update): name, description, resource type, roles, parameters (name,
// type, a validation format only where the type has formats, required, options), messages with their
// placeholders explained, timeout, enabled and details. The checks mirror addCustomAction's rules.
import { FormDialog, fromApi, rowsOf } from "../forms.js";
import { html } from "../lib.js";

const ROLES = [["Admin", "Root admin"], ["ResourceAdmin", "Resource admin"], ["DomainAdmin", "Domain admin"], ["User", "User"]];
const TYPES = [["STRING", "Text"], ["NUMBER", "Number"], ["BOOLEAN", "Yes/no"], ["DATE", "Date and time"]];
const FORMATS = {
  STRING: [["NONE", "Any text"], ["EMAIL", "E-mail address"], ["URL", "URL"], ["UUID", "UUID"], ["PASSWORD", "Password (hidden)"]],
  NUMBER: [["NONE", "Whole number"], ["DECIMAL", "Decimal number"]],
};
const NAME = /^[a-zA-Z0-9 _-]+$/;
const EMAIL = /^[A-Za-z0-9+_.-]+@[A-Za-z0-9.-]+$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function blankParameter() {
  return { name: "", type: "STRING", validationformat: "NONE", required: false, valueoptions: "" };
}

/** What is wrong with one parameter definition (the server's rules), or "". */
function parameterProblem(param, index, all) {
  const name = param.name.trim();
  const where = `Parameter ${index + 1}`;
  if (!name) return `${where} needs a name.`;
  if (all.findIndex((other) => other.name.trim() === name) !== index) return `The parameter name ${name} is used twice.`;
  const options = param.valueoptions.split(",").map((option) => option.trim()).filter(Boolean);
  if (options.length && !["STRING", "NUMBER"].includes(param.type)) return `${name}: options are only for text and numbers.`;
  for (const option of options) {
    if (param.type === "NUMBER" && param.validationformat === "DECIMAL" && !Number.isFinite(Number(option))) return `${name}: the option ${option} is not a number.`;
    if (param.type === "NUMBER" && param.validationformat !== "DECIMAL" && !/^-?\d+$/.test(option)) return `${name}: the option ${option} is not a whole number.`;
    if (param.validationformat === "EMAIL" && !EMAIL.test(option)) return `${name}: the option ${option} is not an e-mail address.`;
    if (param.validationformat === "UUID" && !UUID.test(option)) return `${name}: the option ${option} is not a UUID.`;
  }
  return "";
}

function ParameterEditor({ id, value, onChange, describedBy }) {
  const rows = value || [];
  const set = (index, changes) => onChange(rows.map((row, at) => {
    if (at !== index) return row;
    const next = { ...row, ...changes };
    // A format belongs to its type: reset it when the type no longer has it.
    if (!(FORMATS[next.type] || []).some(([format]) => format === next.validationformat)) next.validationformat = "NONE";
    if (!["STRING", "NUMBER"].includes(next.type)) next.valueoptions = "";
    return next;
  }));
  return html`
    <div class="param-editor" id=${id} role="group" aria-labelledby=${`${id}-label`} aria-describedby=${describedBy}>
      ${rows.length === 0 && html`<p class="muted">No parameters: the action runs without asking anything.</p>`}
      ${rows.map((row, index) => {
        const base = `${id}-${index}`;
        const formats = FORMATS[row.type];
        const label = row.name.trim() || `parameter ${index + 1}`;
        return html`
          <div class="param-row" key=${index} data-parameter=${index}>
            <div class="field"><label for=${`${base}-name`}>Name</label>
              <input id=${`${base}-name`} value=${row.name} spellcheck=${false} autocomplete="off" placeholder="e.g. snap_name"
                onInput=${(event) => set(index, { name: event.currentTarget.value })} /></div>
            <div class="field"><label for=${`${base}-type`}>Type</label>
              <select id=${`${base}-type`} value=${row.type} onChange=${(event) => set(index, { type: event.currentTarget.value })}>
                ${TYPES.map(([type, text]) => html`<option value=${type}>${text}</option>`)}</select></div>
            <div class="field"><label for=${`${base}-format`}>Validation</label>
              ${formats ? html`<select id=${`${base}-format`} value=${row.validationformat}
                  onChange=${(event) => set(index, { validationformat: event.currentTarget.value })}>
                  ${formats.map(([format, text]) => html`<option value=${format}>${text}</option>`)}</select>`
                : html`<span class="muted field-note" id=${`${base}-format`}>None for this type</span>`}</div>
            <div class="field"><label for=${`${base}-options`}>Options</label>
              <input id=${`${base}-options`} value=${row.valueoptions} disabled=${!formats} spellcheck=${false}
                placeholder=${formats ? "optional: a, b, c" : "—"} aria-describedby=${`${base}-options-help`}
                onInput=${(event) => set(index, { valueoptions: event.currentTarget.value })} />
              <span class="visually-hidden" id=${`${base}-options-help`}>Comma-separated; the user then picks one of them.</span></div>
            <div class="param-row-foot">
              <label class="check"><input type="checkbox" checked=${row.required}
                onChange=${(event) => set(index, { required: event.currentTarget.checked })} /><span>Required</span></label>
              <button type="button" class="icon-button" aria-label=${`Remove ${label}`}
                onClick=${() => onChange(rows.filter((_row, at) => at !== index))}>×</button>
            </div>
          </div>`;
      })}
      <button type="button" class="small" onClick=${() => onChange([...rows, blankParameter()])}>+ Add parameter</button>
    </div>`;
}

const PLACEHOLDERS = html`Placeholders: <code>{{actionName}}</code>, <code>{{extensionName}}</code> and
  <code>{{resourceName}}</code> (the instance's name). Left empty: "Successfully completed" / "Failed to complete" and the action's name.`;

function editorFields(command, adding) {
  return fromApi(command, [
    adding && { name: "name", label: "Name", pattern: "[a-zA-Z0-9 _\\-]+", help: "Letters, digits, spaces, '_' and '-'. It is the action name the executable receives.",
      patternMessage: "Use only letters, digits, spaces, '_' and '-'." },
    { name: "description", label: "Description", help: "Shown to whoever runs it." },
    { name: "resourcetype", label: "Resource type", type: "select", options: [["VirtualMachine", "Instance"]], initial: "VirtualMachine",
      help: "What the action runs on." },
    { name: "allowedroletypes", label: "Who may run it", type: "checkboxes", options: ROLES, initial: ["Admin"], locked: adding ? ["Admin"] : [],
      help: adding ? "Root admins always may." : "Exactly these roles may run it.", wide: true,
      toParam: (value) => (value && value.length ? value : undefined) },
    { name: "parameters", label: "Parameters", type: "custom", wide: true, initial: [],
      help: "What the form asks for. Validation formats exist for text (e-mail, URL, UUID, password) and numbers (decimal).",
      render: (props) => html`<${ParameterEditor} ...${props} />`,
      validate: (rows) => rows.map((row, index) => parameterProblem(row, index, rows)).find(Boolean) || "",
      toParam: (rows) => (rows.length ? rows.map((row) => ({ name: row.name.trim(), type: row.type,
        validationformat: row.validationformat, required: row.required,
        valueoptions: row.valueoptions.split(",").map((option) => option.trim()).filter(Boolean).join(",") })) : undefined) },
    { name: "successmessage", label: "Message on success", help: PLACEHOLDERS, wide: true,
      placeholder: "e.g. Snapshot created for {{resourceName}}" },
    { name: "errormessage", label: "Message on failure", help: null, wide: true, placeholder: "e.g. Snapshot failed for {{resourceName}}" },
    { name: "timeout", label: "Timeout (seconds)", min: 1, initial: adding ? "60" : undefined,
      help: "How long the executable may run (the server's default is 3 s)." },
    { name: "enabled", label: "Enabled", help: "Only enabled actions can be run.", initial: adding ? true : undefined },
    { name: "details", label: "Details", help: "Key/value pairs the executable receives with the action (externaldetails.action)." },
  ]);
}

function initialFrom(action) {
  return {
    description: action.description || "", resourcetype: action.resourcetype || "VirtualMachine",
    allowedroletypes: action.allowedroletypes || [], successmessage: action.successmessage || "",
    errormessage: action.errormessage || "", timeout: action.timeout !== undefined ? String(action.timeout) : "",
    enabled: Boolean(action.enabled), details: rowsOf(action.details),
    parameters: (action.parameters || []).map((param) => ({ name: param.name, type: param.type,
      validationformat: param.validationformat || "NONE", required: Boolean(param.required),
      valueoptions: (param.valueoptions || []).join(", ") })),
  };
}

/** The editor in a dialog: adds an action to `extension`, or updates `action`. */
export function ActionEditor({ extension, action, onClose, onDone }) {
  const adding = !action;
  const command = adding ? "addCustomAction" : "updateCustomAction";
  const transform = (params, values) => {
    if (adding) return params;
    // Emptied lists are cleared explicitly: an update leaves out what it is not given.
    const cleaned = { ...params };
    if (!values.parameters.length && (action.parameters || []).length) cleaned.cleanupparameters = true;
    if (!Object.keys(params.details || {}).length && Object.keys(action.details || {}).length) cleaned.cleanupdetails = true;
    return cleaned;
  };
  return html`<${FormDialog} title=${adding ? `Add a custom action to ${extension.name}` : `Edit ${action.name}`} wide=${true}
    command=${command} fields=${editorFields(command, adding)} idPrefix="action"
    initial=${adding ? {} : initialFrom(action)} extra=${adding ? { extensionid: extension.id } : { id: action.id }}
    transform=${transform} submitLabel=${adding ? "Add action" : "Save"}
    label=${(values) => (adding ? `Add action ${values.name} to ${extension.name}` : `Edit action ${action.name}`)}
    onClose=${onClose} onDone=${onDone} />`;
}
