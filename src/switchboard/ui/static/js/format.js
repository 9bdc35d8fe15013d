// How values are shown: dates, states, sizes, names. Pure functions returning text or small elements.
import { html } from "./lib.js";

const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const thisYearFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

function short(date) {
  return (date.getFullYear() === new Date().getFullYear() ? thisYearFormat : dateFormat).format(date);
}
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** CloudStack's dates (`2025-08-22T11:42:37+0000`) as a Date, or null. */
export function parseDate(value) {
  if (!value) return null;
  const iso = String(value).replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(value) {
  const date = parseDate(value);
  return date ? short(date) : "";
}

export function formatTime(value) {
  const date = parseDate(value);
  return date ? timeFormat.format(date) : "";
}

/** "3 minutes ago" for recent dates, else the date. */
export function ago(value) {
  const date = parseDate(value);
  if (!date) return "";
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return short(date);
}

/** A date element: the readable date, the exact one as its machine-readable value and tooltip. */
export function DateText({ value, relative = false }) {
  const date = parseDate(value);
  if (!date) return html`<span class="muted">—</span>`;
  return html`<time datetime=${date.toISOString()} title=${date.toString()}>${relative ? ago(value) : short(date)}</time>`;
}

/** Memory in MiB as "512 MiB" / "2 GiB". */
export function mebibytes(value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) return "";
  return number >= 1024 && number % 1024 === 0 ? `${number / 1024} GiB` : `${number} MiB`;
}

/** "snap_name" / "snapName" → "Snap name". */
export function humanize(name) {
  const words = String(name || "").replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_\-.]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1).toLowerCase() : "";
}

const TONES = {
  ok: ["running", "up", "enabled", "ready", "active", "completed", "succeeded", "download complete", "true", "implemented", "setup"],
  busy: ["starting", "stopping", "expunging", "migrating", "creating", "scheduled", "started", "prepareformaintenance",
    "allocated", "running-job", "connecting", "pending", "warn"],
  bad: ["error", "down", "alert", "failed", "disconnected", "errorinmaintenance", "locked", "not ready", "false"],
  off: ["stopped", "destroyed", "disabled", "maintenance", "removed", "expunged", "inactive"],
};

export function tone(state) {
  const key = String(state ?? "").toLowerCase();
  for (const [name, states] of Object.entries(TONES)) if (states.includes(key)) return name;
  return "neutral";
}

/** A coloured state badge; `label` overrides the text (the state still picks the colour). */
export function StateBadge({ state, label }) {
  const text = label || state || "Unknown";
  return html`<span class=${`badge badge-${tone(state)}`} data-state=${state || ""}>${text}</span>`;
}

export function yesNo(value) {
  return value === true || value === "true" ? "Yes" : "No";
}

/** An instance's default (or first) IP address. */
export function ipOf(vm) {
  const nics = vm.nic || [];
  return (nics.find((nic) => nic.isdefault) || nics[0] || {}).ipaddress || "";
}

const EXTERNAL = "External:";

/** The external details in a CloudStack details map (keys prefixed `External:`), prefix removed. */
export function externalOf(details) {
  return Object.fromEntries(Object.entries(details || {}).filter(([key]) => key.startsWith(EXTERNAL))
    .map(([key, value]) => [key.slice(EXTERNAL.length), value]));
}

/** The other details of a CloudStack details map. */
export function plainOf(details) {
  return Object.fromEntries(Object.entries(details || {}).filter(([key]) => !key.startsWith(EXTERNAL)));
}

/** A size in bytes as "7 GiB" / "512 MiB"; nothing for 0 or unknown. */
export function bytes(value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) return "";
  const gib = number / 1073741824;
  if (gib >= 1) return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
  return `${Math.round(number / 1048576)} MiB`;
}

/** Text as base64 of its UTF-8 bytes (how CloudStack takes user data). */
export function toBase64(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** base64 of UTF-8 text back to the text; null when it is not base64 or not UTF-8 (binary user data). */
export function fromBase64(encoded) {
  try {
    const binary = atob(String(encoded || "").replace(/\s+/g, ""));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
  } catch (_error) {
    return null;
  }
}

/** CloudStack's map-as-text answers ("{myhost=web, env=prod}", userdatadetails) as an object. */
export function parseMapText(text) {
  const inner = String(text || "").trim().replace(/^\{/, "").replace(/\}$/, "");
  const map = {};
  for (const part of inner.split(",")) {
    const at = part.indexOf("=");
    if (at > 0) map[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return map;
}

/** A limit as CloudStack answers it (a number, -1 or "Unlimited") as a number, or null for no limit. */
export function limitOf(value) {
  if (value === undefined || value === null || value === "" || String(value).toLowerCase() === "unlimited") return null;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : null;
}
