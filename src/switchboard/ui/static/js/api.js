// The one way the UI talks to the server: CloudStack's API at /client/api, as any other client does.
// Calls are POSTed (passwords and parameters stay out of URLs and logs) with the login session: the
// `sessionkey` cookie set by `login`, sent again as the `sessionkey` parameter.

const ENDPOINT = "/client/api";

/** A refusal from the server (its errortext, errorcode and HTTP status) or a failure to reach it. */
export class ApiError extends Error {
  constructor(message, { code = 0, status = 0, command = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.command = command;
  }
}

const expiredListeners = new Set();

/** Call `listener()` when the server says the session is gone (HTTP 401 on any call but login). */
export function onSessionExpired(listener) {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Add one parameter in CloudStack's encoding: a list is comma-separated; a map `{k: v}` becomes
 * `name[0].k=v` (all keys under one index, which CloudStack flattens back into one map); a list of maps
 * becomes `name[i].field=value`. Empty values are left out, as an omitted parameter.
 */
function appendParam(body, name, value) {
  if (value === null || value === undefined || value === "") return;
  if (Array.isArray(value) && value.length && value.every(isPlainObject)) {
    value.forEach((entry, index) => {
      for (const [field, item] of Object.entries(entry)) appendParam(body, `${name}[${index}].${field}`, item);
    });
  } else if (Array.isArray(value)) {
    if (value.length) body.append(name, value.join(","));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key !== "" && item !== null && item !== undefined) body.append(`${name}[0].${key}`, String(item));
    }
  } else {
    body.append(name, String(value));
  }
}

/** Call `command` and return the inner response object (`{"<command>response": {...}}` → `{...}`). */
export async function call(command, params = {}) {
  const body = new URLSearchParams({ command, response: "json" });
  for (const [name, value] of Object.entries(params)) appendParam(body, name, value);
  if (command !== "login") body.set("sessionkey", cookie("sessionkey"));
  let reply;
  try {
    reply = await fetch(ENDPOINT, { method: "POST", body, credentials: "same-origin" });
  } catch (_error) {
    throw new ApiError("The management server cannot be reached. Check the connection and try again.",
      { command });
  }
  let data = {};
  try { data = await reply.json(); } catch (_error) { /* not JSON: reported below */ }
  const inner = (data && Object.values(data)[0]) || {};
  if (!reply.ok || inner.errorcode) {
    const status = reply.status;
    if (status === 401 && command !== "login") for (const listener of expiredListeners) listener();
    throw new ApiError(inner.errortext || `${command} failed (HTTP ${status})`,
      { code: inner.errorcode || status, status, command });
  }
  return inner;
}

/** A list command's items (whatever its object name) and its count; an empty list answers `{}`. */
export async function list(command, params = {}) {
  const inner = await call(command, params);
  const items = Object.values(inner).find(Array.isArray) || [];
  return { items, count: typeof inner.count === "number" ? inner.count : items.length };
}

/** Every item a list command gives the caller (all pages the caller may see, no keyword). */
export async function listAll(command, params = {}) {
  return (await list(command, { listall: true, ...params })).items;
}

/** One item by id, or null when the caller cannot see it (CloudStack answers an empty list then). */
export async function find(command, id, params = {}) {
  const { items } = await list(command, { ...params, id });
  return items[0] || null;
}

// ---- what the caller may do: listApis -------------------------------------------------------------------

let apis = new Map();

/** Load the commands this session may call (listApis): their parameters (type, required, `related`). */
export async function loadApis() {
  const { items } = await list("listApis");
  apis = new Map(items.map((api) => [api.name, {
    ...api,
    params: new Map((api.params || []).map((param) => [param.name, param])),
    fields: new Set((api.response || []).map((field) => field.name)),
  }]));
  return apis;
}

/** True when the session may call every one of `commands`. */
export function can(...commands) {
  return commands.every((command) => apis.has(command));
}

/** listApis' description of `command` (undefined when the session may not call it). */
export function apiInfo(command) {
  return apis.get(command);
}

/** listApis' description of one parameter of `command`. */
export function paramInfo(command, name) {
  const api = apis.get(command);
  return api ? api.params.get(name.toLowerCase()) : undefined;
}

/**
 * True when `command`'s answer declares the response field `name` (listApis `response`): a column or a
 * meter for it is shown only then. A server that declares no response fields at all is taken at its word
 * for nothing and everything is shown.
 */
export function declares(command, name) {
  const api = apis.get(command);
  return Boolean(api) && (api.fields.size === 0 || api.fields.has(name));
}

export function isAsync(command) {
  const api = apis.get(command);
  return Boolean(api && api.isasync);
}
