// The console page: one instance's VNC console through the server's proxy, drawn by noVNC.
//
// The page is opened with the URL createConsoleEndpoint answers: /console#token=<ticket>&name=<instance>.
// The ticket is in the fragment, so loading the page never sends it; it is taken out of the address bar
// at once (it opens the console once). The proxy (/console/websocket) logs in to the VNC server itself:
// the viewer never sees the VNC password.
import RFB from "../vendor/novnc/core/rfb.js";

const SOCKET_PATH = "/console/websocket";
const status = document.getElementById("console-status");
const screen = document.getElementById("console-screen");
const ctrlAltDel = document.getElementById("console-cad");
const disconnect = document.getElementById("console-disconnect");

function say(text, state = "connecting") {
  status.textContent = text;
  status.dataset.state = state;
}

function connect(token) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${SOCKET_PATH}?token=${encodeURIComponent(token)}`, ["binary"]);
  socket.binaryType = "arraybuffer";
  let refused = "";
  // The proxy closes with 1008 and says why when the link was used already or has expired.
  socket.addEventListener("close", (event) => { if (event.code === 1008 && event.reason) refused = event.reason; });
  let failure = "";
  const rfb = new RFB(screen, socket);
  rfb.scaleViewport = true;
  rfb.background = "#14161c";
  rfb.addEventListener("connect", () => {
    say("Connected", "ok");
    ctrlAltDel.disabled = false;
    disconnect.disabled = false;
    rfb.focus();
  });
  rfb.addEventListener("securityfailure", (event) => {
    failure = (event.detail && event.detail.reason) || "The console refused the connection.";
  });
  rfb.addEventListener("desktopname", (event) => {
    if (event.detail && event.detail.name) screen.setAttribute("aria-label", `Screen of ${event.detail.name}`);
  });
  rfb.addEventListener("disconnect", (event) => {
    ctrlAltDel.disabled = true;
    disconnect.disabled = true;
    const clean = event.detail && event.detail.clean;
    say(refused || failure || (clean ? "Disconnected. Open the console again from the instance page to reconnect."
      : "The console connection was lost."), clean && !refused && !failure ? "connecting" : "bad");
  });
  ctrlAltDel.addEventListener("click", () => rfb.sendCtrlAltDel());
  disconnect.addEventListener("click", () => rfb.disconnect());
}

const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get("token") || "";
const name = fragment.get("name") || "";
history.replaceState(null, "", location.pathname + location.search);
if (name) {
  document.getElementById("console-title").textContent = `Console of ${name}`;
  document.title = `${name} · Console · Switchboard`;
}
if (token) {
  connect(token);
} else {
  say("This page needs a console link: open the console from the instance page.", "bad");
}
