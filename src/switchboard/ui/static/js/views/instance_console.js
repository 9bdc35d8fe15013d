// The instance page's Console tab: the screen (VNC, on the console page through the server's proxy) where the
// extension offers a console, and the serial console's last lines where it has a `ConsoleLog` custom action
// (the Firecracker extension does): the fallback where there is no VNC, and the quickest way to watch a boot.
import { call, can, listAll } from "../api.js";
import { html, useEffect, useRef, useState } from "../lib.js";
import { Alert, Card } from "../page.js";

const SERIAL_ACTION = "ConsoleLog";
const SERIAL_LINES = 200;
const FOLLOW_MS = 5000;
const POLL_MS = 1000;
// Terminal control sequences (colours, cursor moves) mean nothing in a <pre>.
const CONTROL = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-Za-z]|[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Run a custom action without a notification (refreshes are not operations) and wait for its job. */
async function runQuietly(action, vm, parameters) {
  const started = await call("runCustomAction", { customactionid: action.id, resourceid: vm.id,
    resourcetype: "VirtualMachine", parameters });
  for (;;) {
    const job = await call("queryAsyncJobResult", { jobid: started.jobid });
    if (job.jobstatus === 1) return job.jobresult.customactionresult;
    if (job.jobstatus === 2) throw new Error((job.jobresult && job.jobresult.errortext) || "The action failed");
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
  }
}

function serialText(result) {
  const details = (result && result.result && result.result.details) || "";
  let text = details;
  try {
    const parsed = JSON.parse(details);
    if (parsed && typeof parsed.message === "string") text = parsed.message;
  } catch (_error) { /* plain output */ }
  return text.replace(CONTROL, "");
}

function Screen({ vm }) {
  const [state, setState] = useState({ busy: false, url: "", error: "" });
  const running = vm.state === "Running";
  const ask = async () => {
    setState({ busy: true, url: "", error: "" });
    try {
      const reply = await call("createConsoleEndpoint", { virtualmachineid: vm.id });
      const endpoint = reply.consoleendpoint || {};
      setState(endpoint.success && endpoint.url ? { busy: false, url: endpoint.url, error: "" }
        : { busy: false, url: "", error: endpoint.details || "The server gave no console address." });
    } catch (error) {
      setState({ busy: false, url: "", error: error.message });
    }
  };
  // The link opens the console once: after the click, offer a new one.
  const opened = () => { setTimeout(() => setState({ busy: false, url: "", error: "" }), 0); };
  return html`
    <${Card} title="Screen">
      <p class="muted">The instance's screen (VNC) in a new tab, through this server. A link opens the console once, within two minutes.</p>
      ${!running && html`<p class="muted">The screen is there while the instance runs.</p>`}
      ${state.error && html`<${Alert} kind="error">${state.error}</${Alert}>`}
      <div class="form-actions">
        ${state.url ? html`<a class="button primary" id="console-open" href=${state.url} target="_blank" rel="noopener" onClick=${opened}>Open the console</a>`
          : html`<button type="button" class="primary" id="console-get" disabled=${state.busy || !running} onClick=${ask}
            aria-busy=${state.busy ? "true" : null}>${state.busy ? "Asking…" : "Get a console link"}</button>`}
      </div>
    </${Card}>`;
}

function Serial({ vm, action }) {
  const [text, setText] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [follow, setFollow] = useState(false);
  const [tick, setTick] = useState(0);
  const box = useRef(null);
  const running = vm.state === "Running";

  useEffect(() => {
    if (!running) return undefined;
    let live = true;
    setBusy(true);
    runQuietly(action, vm, { lines: String(SERIAL_LINES) }).then(
      (result) => {
        if (!live) return;
        if (result && result.success) { setText(serialText(result)); setError(""); }
        else setError((result && result.result && result.result.message) || "The serial console could not be read.");
      },
      (failure) => { if (live) setError(failure.message); },
    ).finally(() => { if (live) setBusy(false); });
    return () => { live = false; };
  }, [vm.id, running, tick]);

  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text]);

  useEffect(() => {
    if (!follow || busy || !running) return undefined;
    const timer = setTimeout(() => setTick((n) => n + 1), FOLLOW_MS);
    return () => clearTimeout(timer);
  }, [follow, busy, running, tick]);

  return html`
    <${Card} title="Serial console">
      <p class="muted">The last ${SERIAL_LINES} lines the guest wrote to its serial console.</p>
      ${!running && html`<p class="muted">The serial console is read while the instance runs.</p>`}
      ${error && html`<${Alert} kind="error">${error}</${Alert}>`}
      ${running && (text === null ? html`<p class="loading" role="status">Reading the serial console…</p>`
        : html`<pre class="output serial-log" id="serial-log" ref=${box} tabIndex="0" aria-label="Serial console">${text}</pre>`)}
      <div class="form-actions">
        <button type="button" id="serial-refresh" disabled=${busy || !running} onClick=${() => setTick((n) => n + 1)}
          aria-busy=${busy ? "true" : null}>${busy ? "Reading…" : "Refresh"}</button>
        <label class="inline-check"><input type="checkbox" id="serial-follow" checked=${follow} disabled=${!running}
          onChange=${(event) => setFollow(event.currentTarget.checked)} /> Follow (every ${FOLLOW_MS / 1000} s)</label>
      </div>
    </${Card}>`;
}

/** The Console tab. */
export function Console({ vm }) {
  const [serial, setSerial] = useState(undefined);
  useEffect(() => {
    if (!can("runCustomAction", "listCustomActions")) { setSerial(null); return; }
    listAll("listCustomActions", { resourcetype: "VirtualMachine", resourceid: vm.id, enabled: true }).then(
      (found) => setSerial(found.find((item) => item.name === SERIAL_ACTION) || null),
      () => setSerial(null),
    );
  }, [vm.id]);
  const screen = can("createConsoleEndpoint");
  return html`
    <div class="split">
      ${screen && html`<${Screen} vm=${vm} />`}
      ${serial === undefined ? html`<p class="loading" role="status">Looking for a serial console…</p>`
        : serial ? html`<${Serial} vm=${vm} action=${serial} />`
          : !screen && html`<${Alert} kind="info">This instance's extension offers no console.</${Alert}>`}
    </div>`;
}
