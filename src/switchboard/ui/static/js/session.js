// Who is logged in. The session itself is the server's (the `sessionkey` cookie); what the header shows
// about the user is kept from the login reply (never the session key), and what the user may do comes
// from listApis, never from this.
import { call, cookie } from "./api.js";

const USER = "sb.user";
const ACCOUNT_TYPES = { 0: "User", 1: "Root admin", 2: "Domain admin", 3: "Resource admin" };

export function hasSession() {
  return Boolean(cookie("sessionkey"));
}

/** The login reply's description of the user: {username, userid, account, domainid, type, ...}. */
export function user() {
  try {
    return JSON.parse(localStorage.getItem(USER) || "null") || {};
  } catch (_error) {
    return {};
  }
}

export function accountTypeName(type) {
  return ACCOUNT_TYPES[type] || "";
}

export async function login({ username, password, domain }) {
  const reply = await call("login", { username, password, domain: domain && domain !== "/" ? domain : "" });
  const { sessionkey: _secret, ...about } = reply;
  localStorage.setItem(USER, JSON.stringify(about));
  sessionStorage.removeItem("sb.notifications"); // another user's jobs are not this one's
  return about;
}

export async function logout() {
  try {
    await call("logout");
  } catch (_error) {
    // The session may have ended already: forget its cookie here, as the server's reply would have.
    document.cookie = "sessionkey=; Max-Age=0; path=/; SameSite=Lax";
  }
  localStorage.removeItem(USER);
  sessionStorage.removeItem("sb.notifications");
}

/** Where to send someone whose session is missing or over, coming back to `path` after logging in. */
export function loginUrl(path, { expired = false } = {}) {
  const query = new URLSearchParams();
  if (path && path !== "/" && !path.startsWith("/login")) query.set("next", path);
  if (expired) query.set("expired", "1");
  const search = query.toString();
  return "/login" + (search ? `?${search}` : "");
}
