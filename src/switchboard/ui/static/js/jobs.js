// Async jobs and the notification list. Every operation the UI starts goes through `run` (or `notify` for
// the immediate ones), so the notification list shows its progress and outcome wherever the user is, and
// a page reload picks the unfinished jobs up again (they are kept in sessionStorage, per tab).
import { call, isAsync } from "./api.js";
import { useEffect, useState } from "./lib.js";

const STORE = "sb.notifications";
const KEEP = 30;
const POLL_MS = 1000;

let entries = restore();
const listeners = new Set();
const waiting = new Map(); // jobid → [{resolve, reject}]
let timer = null;
let sequence = Date.now();

function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch (_error) {
    return [];
  }
}

function changed() {
  entries = entries.slice(0, KEEP);
  try { sessionStorage.setItem(STORE, JSON.stringify(entries)); } catch (_error) { /* storage full: keep in memory */ }
  for (const listener of listeners) listener(entries);
}

function update(key, fields) {
  entries = entries.map((entry) => (entry.key === key ? { ...entry, ...fields } : entry));
  changed();
}

function add(fields) {
  const entry = { key: `n${sequence++}`, started: new Date().toISOString(), unread: true, ...fields };
  entries = [entry, ...entries];
  changed();
  return entry;
}

/** The notification list, kept current. */
export function useNotifications() {
  const [current, setCurrent] = useState(entries);
  useEffect(() => {
    listeners.add(setCurrent);
    setCurrent(entries);
    return () => listeners.delete(setCurrent);
  }, []);
  return current;
}

export function markAllRead() {
  if (entries.some((entry) => entry.unread)) {
    entries = entries.map((entry) => ({ ...entry, unread: false }));
    changed();
  }
}

export function clearFinished() {
  entries = entries.filter((entry) => entry.state === "running");
  changed();
}

/** Record an operation that finished at once (a synchronous command): `kind` "done" or "failed". */
export function notify(label, { kind = "done", message = "", href = "" } = {}) {
  add({ label, state: kind, message, href, ended: new Date().toISOString() });
}

function outcome(result) {
  // The message worth showing from a job result: a custom action's rendered message, or nothing.
  const action = result && result.customactionresult;
  if (action && action.result) return action.result.message || "";
  return "";
}

async function poll() {
  timer = null;
  const running = entries.filter((entry) => entry.state === "running" && entry.jobid);
  await Promise.all(running.map(async (entry) => {
    let job;
    try {
      job = await call("queryAsyncJobResult", { jobid: entry.jobid });
    } catch (error) {
      if (error.status === 401) return; // the session ended: the login page takes over
      if (error.code === 431 || error.status === 431) { // the job is gone (purged, or another session's)
        update(entry.key, { state: "failed", message: error.message, ended: new Date().toISOString() });
        settle(entry.jobid, null, error);
      }
      return;
    }
    if (job.jobstatus === 0) return;
    const result = job.jobresult || {};
    if (job.jobstatus === 1) {
      const failed = result.customactionresult && result.customactionresult.success === false;
      update(entry.key, { state: failed ? "failed" : "done", message: outcome(result), ended: job.completed || "" });
      settle(entry.jobid, result, null);
    } else {
      const text = result.errortext || "The job failed";
      update(entry.key, { state: "failed", message: text, ended: job.completed || "" });
      const error = new Error(text);
      error.code = result.errorcode || 530;
      settle(entry.jobid, null, error);
    }
  }));
  schedule();
}

function settle(jobid, result, error) {
  for (const { resolve, reject } of waiting.get(jobid) || []) {
    if (error) reject(error); else resolve(result);
  }
  waiting.delete(jobid);
}

function schedule() {
  if (!timer && entries.some((entry) => entry.state === "running" && entry.jobid)) {
    timer = setTimeout(poll, POLL_MS);
  }
}

/** Follow async job `jobid` in the notification list; resolves with its jobresult, rejects with its error. */
export function track(jobid, label, { href = "" } = {}) {
  if (!entries.some((entry) => entry.jobid === jobid)) add({ label, state: "running", jobid, href });
  const done = new Promise((resolve, reject) => {
    waiting.set(jobid, [...(waiting.get(jobid) || []), { resolve, reject }]);
  });
  schedule();
  return done;
}

/**
 * Run `command` as one user operation shown in the notification list: an async command is followed to
 * its end (resolves with the jobresult); a synchronous one resolves with its response. A refusal rejects
 * with the server's message and is listed as failed. `onStarted(reply)` sees an async command's first
 * reply (jobid and, for creations, the new object's id) before the job ends.
 */
export async function run(command, params, { label = command, href = "", onStarted } = {}) {
  let reply;
  try {
    reply = await call(command, params);
  } catch (error) {
    if (error.status !== 401) {
      notify(label, { kind: "failed", message: error.message, href: typeof href === "function" ? "" : href });
    }
    throw error;
  }
  const link = typeof href === "function" ? href(reply) : href;
  if (reply.jobid && isAsync(command)) {
    if (onStarted) onStarted(reply);
    return track(reply.jobid, label, { href: link });
  }
  notify(label, { kind: "done", href: link });
  return reply;
}

// Pick up the jobs a reload interrupted.
schedule();
