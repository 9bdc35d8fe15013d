"""A WinRM stand-in: an HTTPS WS-Management endpoint (`/wsman`) that authenticates NTLM and runs PowerShell
against a `HyperVHost` model.

What a Windows WinRM listener does and this one checks:
* HTTPS only; `WWW-Authenticate: Negotiate` on an unauthenticated request; NTLM messages (raw NTLMSSP in the
  Negotiate header, as pywinrm sends them) verified by pyspnego as the acceptor against a user file, with
  the channel binding (tls-server-end-point hash of this listener's certificate) that the client must send;
  the connection is authenticated, later requests on it carry no header; a wrong password is a 401.
* The WinRS shell protocol (MS-WSMV): transfer/Create of a cmd shell (WINRS_CODEPAGE honoured), Command,
  Receive (held up to the request's OperationTimeout, then fault 2150858793 as WinRM does), Signal
  terminate, transfer/Delete; unknown shells/commands, resource URIs and actions are SOAP faults.
* The command line as cmd.exe takes it (8191 characters at most unless WINRS_SKIP_CMD_SHELL), which must
  run `powershell.exe` with -EncodedCommand (UTF-16LE, base64); -NoProfile and -NonInteractive are noted.
  The decoded script runs in the `powershell` subset interpreter against the Hyper-V model; its errors come
  back as CLIXML on stderr.

Everything is recorded for the tests: `commands` (each decoded script with its flags and result) and
`logins` (user name, accepted or not). `hold(cmdlet)` makes that cmdlet wait until `release()` (a host that
stops answering).
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import spnego
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from tests.builtin_extensions.hyperv.hyperv_model import HyperVHost
from tests.builtin_extensions.hyperv.powershell import Interpreter, clixml
from tests.builtin_extensions.hyperv.utility import CMDLETS, render

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
RECEIVE_TIMEOUT_CODE = 2150858793
CMD_LINE_LIMIT = 8191


@dataclass
class CommandRun:
    """One command the stand-in ran: the decoded PowerShell script and what came of it."""

    command_line: str
    script: str | None
    flags: list[str]
    user: str
    exit_code: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Shell:
    codepage: int
    commands: dict[str, CommandRun] = field(default_factory=dict)


class _Fault(Exception):
    def __init__(self, subcode: str, reason: str, code: int | None = None, status: int = 500):
        super().__init__(reason)
        self.subcode, self.reason, self.code, self.status = subcode, reason, code, status


class WinRMStandIn:
    """The listener: `start()` it, point the extension at `url`, `stop()` it."""

    def __init__(self, host: HyperVHost, *, users: dict[str, str], certificate: Path, key: Path, workdir: Path):
        self.host = host
        self.users = users
        self.certificate, self.key, self.workdir = certificate, key, workdir
        self.commands: list[CommandRun] = []
        self.logins: list[tuple[str, bool]] = []
        self.shells: dict[str, Shell] = {}
        self._holds: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._previous_user_file: str | None = None
        self.interpreter = Interpreter({**CMDLETS, **host.cmdlets()}, render, self._before_command)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/wsman"

    @property
    def scripts(self) -> list[str]:
        return [run.script for run in self.commands if run.script is not None]

    def start(self) -> WinRMStandIn:
        # pyspnego's NTLM acceptor reads its users from the file named by NTLM_USER_FILE (DOMAIN:USER:PASSWORD).
        user_file = self.workdir / "ntlm-users"
        lines = []
        for user, password in self.users.items():
            domain, _, name = user.rpartition("\\")
            lines.append(f"{domain}:{name}:{password}")
        user_file.write_text("\n".join(lines) + "\n")
        self._previous_user_file = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(user_file)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        der = ssl.PEM_cert_to_DER_cert(self.certificate.read_text())
        bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())
        self._server = _Server(("127.0.0.1", 0), _Handler, standin=self, tls=context, bindings=bindings)
        threading.Thread(target=self._server.serve_forever, name="winrm-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._previous_user_file is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = self._previous_user_file

    def hold(self, cmdlet: str) -> None:
        """Make `cmdlet` wait (until `release()` or 120 s) whenever a script runs it."""
        self._holds[cmdlet.lower()] = threading.Event()

    def release(self) -> None:
        for event in self._holds.values():
            event.set()
        self._holds.clear()

    def _before_command(self, name: str) -> None:
        event = self._holds.get(name.lower())
        if event is not None:
            event.wait(120)

    # the WinRS shell

    def handle(self, body: bytes, user: str) -> bytes:
        try:
            envelope = ET.fromstring(body)
        except ET.ParseError as exc:
            raise _Fault("w:InvalidXml", f"The request is not valid XML: {exc}", status=400) from exc
        header = envelope.find("s:Header", NS)
        if header is None:
            raise _Fault("w:InvalidXml", "The SOAP envelope has no header.", status=400)
        action = _text(header, "a:Action")
        message_id = _text(header, "a:MessageID")
        if _text(header, "w:ResourceURI") != CMD_URI:
            raise _Fault("w:DestinationUnreachable", "The WS-Management service cannot process the request: the "
                         f"resource URI {_text(header, 'w:ResourceURI')!r} is not supported by the stand-in.")
        options = {o.get("Name"): o.text or "" for o in header.findall("w:OptionSet/w:Option", NS)}
        shell_id = next((s.text for s in header.findall("w:SelectorSet/w:Selector", NS)
                         if s.get("Name") == "ShellId"), None)
        body_node = envelope.find("s:Body", NS)
        if action == f"{TRANSFER}/Create":
            codepage = int(options.get("WINRS_CODEPAGE", "437") or 437)
            if codepage not in (437, 65001):
                raise _Fault("w:InvalidOptions", f"The stand-in supports code pages 437 and 65001, not {codepage}.")
            new_id = str(uuid.uuid4()).upper()
            with self._lock:
                self.shells[new_id] = Shell(codepage)
            return _envelope(f"{TRANSFER}/CreateResponse", message_id,
                             f"<x:ResourceCreated><a:Address>{self.url}</a:Address><a:ReferenceParameters>"
                             f"<w:ResourceURI>{CMD_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">"
                             f"{new_id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>")
        shell = self.shells.get(shell_id or "")
        if shell is None:
            raise _Fault("w:InvalidSelectors", f"The shell {shell_id!r} does not exist (or was deleted).")
        if action == f"{TRANSFER}/Delete":
            with self._lock:
                self.shells.pop(shell_id or "", None)
            return _envelope(f"{TRANSFER}/DeleteResponse", message_id, "")
        if action == f"{SHELL}/Command":
            line = body_node.find("rsp:CommandLine", NS) if body_node is not None else None
            if line is None:
                raise _Fault("w:SchemaValidationError", "The Command request has no CommandLine.")
            command_id = str(uuid.uuid4()).upper()
            skip_cmd = options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
            run = self._start(" ".join(filter(None, [_text(line, "rsp:Command"), _text(line, "rsp:Arguments")])),
                              skip_cmd, shell.codepage, user)
            shell.commands[command_id] = run
            return _envelope(f"{SHELL}/CommandResponse", message_id,
                             f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>")
        if action == f"{SHELL}/Receive":
            stream = body_node.find("rsp:Receive/rsp:DesiredStream", NS) if body_node is not None else None
            run = shell.commands.get(stream.get("CommandId", "") if stream is not None else "")
            if run is None or stream is None:
                raise _Fault("w:InvalidSelectors", "The command to receive from does not exist.")
            if not run.done.wait(_seconds(_text(header, "w:OperationTimeout"))):
                raise _Fault("w:TimedOut", "The WS-Management service cannot complete the operation within the time "
                             "specified in OperationTimeout.", code=RECEIVE_TIMEOUT_CODE)
            command_id = stream.get("CommandId")
            streams = "".join(
                f'<rsp:Stream Name="{name}" CommandId="{command_id}">{base64.b64encode(data).decode()}</rsp:Stream>'
                f'<rsp:Stream Name="{name}" CommandId="{command_id}" End="true"></rsp:Stream>'
                for name, data in (("stdout", run.stdout), ("stderr", run.stderr)))
            return _envelope(f"{SHELL}/ReceiveResponse", message_id,
                             f"<rsp:ReceiveResponse>{streams}<rsp:CommandState CommandId=\"{command_id}\" "
                             f"State=\"{SHELL}/CommandState/Done\"><rsp:ExitCode>{run.exit_code}</rsp:ExitCode>"
                             "</rsp:CommandState></rsp:ReceiveResponse>")
        if action == f"{SHELL}/Signal":
            signal_node = body_node.find("rsp:Signal", NS) if body_node is not None else None
            if signal_node is None or signal_node.get("CommandId") not in shell.commands:
                raise _Fault("w:InvalidSelectors", "The command to signal does not exist.")
            shell.commands.pop(signal_node.get("CommandId", ""))
            return _envelope(f"{SHELL}/SignalResponse", message_id, "<rsp:SignalResponse/>")
        raise _Fault("a:ActionNotSupported", f"The action {action!r} is not supported by the stand-in.")

    def _start(self, command_line: str, skip_cmd: bool, codepage: int, user: str) -> CommandRun:
        words = command_line.split()
        run = CommandRun(command_line=command_line, script=None, flags=[], user=user)
        self.commands.append(run)
        if not skip_cmd and len(command_line) > CMD_LINE_LIMIT:
            return _finish(run, 1, b"", b"The command line is too long.\r\n")
        if not words or words[0].lower() not in ("powershell", "powershell.exe"):
            return _finish(run, 1, b"", f"'{words[0] if words else ''}' is not recognized as an internal or external "
                           "command,\r\noperable program or batch file.\r\n".encode())
        encoded = None
        rest = words[1:]
        while rest:
            flag = rest.pop(0)
            lowered = flag.lower()
            if lowered in ("-noprofile", "-noninteractive"):
                run.flags.append(flag)
            elif lowered in ("-encodedcommand", "-enc", "-ec", "-e") and rest:
                encoded = rest.pop(0)
            else:
                return _finish(run, 1, b"", f"stand-in: powershell.exe argument {flag!r} is not supported\r\n".encode())
        if encoded is None:
            return _finish(run, 1, b"", b"stand-in: only powershell.exe -EncodedCommand is supported\r\n")
        try:
            run.script = base64.b64decode(encoded, validate=True).decode("utf-16-le")
        except ValueError:
            return _finish(run, 1, b"", b"Cannot process the command because the value specified with "
                           b"-EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n")
        encoding = "utf-8" if codepage == 65001 else "cp437"

        def execute() -> None:
            result = self.interpreter.run(run.script or "")
            _finish(run, result.exit_code, result.stdout.encode(encoding, "replace"), clixml(result.errors))

        threading.Thread(target=execute, name="powershell", daemon=True).start()
        return run


def _finish(run: CommandRun, code: int, stdout: bytes, stderr: bytes) -> CommandRun:
    run.exit_code, run.stdout, run.stderr = code, stdout, stderr
    run.done.set()
    return run


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _seconds(duration: str) -> float:
    """An xs:duration like PT20S or PT20.000S, in seconds (20 when absent)."""
    if duration.startswith("PT") and duration.endswith("S"):
        try:
            return float(duration[2:-1])
        except ValueError:
            pass
    return 20.0


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" '
        f'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="{NS["w"]}" xmlns:rsp="{NS["rsp"]}">'
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _fault_body(fault: _Fault) -> bytes:
    detail = (f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
              f'Code="{fault.code}" Machine="standin"><f:Message>{escape(fault.reason)}</f:Message></f:WSManFault>'
              "</s:Detail>") if fault.code else ""
    return (f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}"><s:Header/><s:Body><s:Fault>'
            f"<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode>"
            f'</s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>{detail}'
            "</s:Fault></s:Body></s:Envelope>").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *, standin: WinRMStandIn,
                 tls: ssl.SSLContext, bindings: GssChannelBindings):
        super().__init__(address, handler)
        self.standin, self.tls, self.bindings = standin, tls, bindings

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up or refused our certificate: nothing to report


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        # TLS per connection, in the connection's own thread (a slow handshake blocks nobody else).
        self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        self.ntlm: Any = None
        self.user: str | None = None
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.lower() != "/wsman":
            return self._reply(404, b"", {})
        if self.user is None and not self._authenticate():
            return None
        if not (self.headers.get("Content-Type") or "").lower().startswith("application/soap+xml"):
            return self._reply(415, b"", {})
        try:
            answer = self.server.standin.handle(body, self.user or "")
        except _Fault as fault:
            return self._reply(fault.status, _fault_body(fault), {"Content-Type": "application/soap+xml;charset=UTF-8"})
        return self._reply(200, answer, {"Content-Type": "application/soap+xml;charset=UTF-8"})

    def _authenticate(self) -> bool:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() not in ("negotiate", "ntlm") or not token:
            self._reply(401, b"", {"WWW-Authenticate": "Negotiate"})
            return False
        try:
            raw = base64.b64decode(token)
        except ValueError:
            raw = b""
        if not raw.startswith(b"NTLMSSP\x00"):
            self._reply(401, b"", {"WWW-Authenticate": "Negotiate"}, close=True)  # Kerberos is not implemented
            return False
        if raw[8] == 1:
            self.ntlm = spnego.server(protocol="ntlm", channel_bindings=self.server.bindings)
            challenge = self.ntlm.step(raw)
            self._reply(401, b"", {"WWW-Authenticate": f"Negotiate {base64.b64encode(challenge).decode()}"})
            return False
        if raw[8] == 3 and self.ntlm is not None:
            try:
                self.ntlm.step(raw)
            except SpnegoError:
                self.server.standin.logins.append((_authenticate_user(raw), False))
                self._reply(401, b"", {"WWW-Authenticate": "Negotiate"}, close=True)
                return False
            self.user = str(self.ntlm.client_principal)
            self.server.standin.logins.append((self.user, True))
            return True
        self._reply(401, b"", {"WWW-Authenticate": "Negotiate"}, close=True)
        return False

    def _reply(self, status: int, body: bytes, headers: dict[str, str], close: bool = False) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server", "Microsoft-HTTPAPI/2.0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


def _authenticate_user(message: bytes) -> str:
    """The DOMAIN\\user of an NTLM AUTHENTICATE message (for the record of a refused login)."""
    try:
        from spnego._ntlm_raw.messages import Authenticate

        parsed = Authenticate.unpack(message)
        return f"{parsed.domain_name}\\{parsed.user_name}" if parsed.domain_name else str(parsed.user_name)
    except Exception:
        return "?"


def wait_idle(standin: WinRMStandIn, timeout: float = 10.0) -> None:
    """Wait until every command the stand-in started has finished (a test's cleanup after `release()`)."""
    deadline = time.monotonic() + timeout
    for run in list(standin.commands):
        run.done.wait(max(0.0, deadline - time.monotonic()))
