"""What a request may make the agent do, against a real agent process over mTLS: template images are
fetched only from `templates.allowed_sources` (none by default), and disks are capped by `limits`."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentcore.agentproc import AgentProcess
from agentcore.harness import Pki, client, payload


class _CountingServer:
    """A real HTTP server that counts the requests it gets and serves a small image."""

    def __init__(self) -> None:
        outer = self
        self.requests = 0
        self.image = b"\0" * 65536

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.image)))
                self.end_headers()
                self.wfile.write(outer.image)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def images() -> Iterator[_CountingServer]:
    server = _CountingServer()
    yield server
    server.close()


def _agent(root: Path, pki: Pki, **sections: Any) -> AgentProcess:
    (root / "kernels").mkdir()
    (root / "kernels" / "vmlinux").write_bytes(b"\x7fELF not booted in these tests")
    (root / "images").mkdir()
    config = {
        "defaults": {
            "host": {"vmm": "qemu", "kernel_dir": str(root / "kernels"), "image_dir": str(root / "images"),
                     "state_dir": str(root / "state"), "run_dir": str(root / "run"), "log_dir": str(root / "log")},
            "storage": {"driver": "file", "volume_dir": str(root / "volumes")},
            "net": {"driver": "none"},
        },
        "security": {"tls": {"enabled": True, "cert_file": str(pki.directory / "server.crt"),
                             "key_file": str(pki.directory / "server.key"), "ca_file": str(pki.ca),
                             "client_auth": "required"}},
        **sections,
    }
    agent = AgentProcess(root, pki, config)
    agent.start()
    return agent


def _spec(name: str, **details: str) -> dict[str, Any]:
    spec = payload(name, vlan=None, image="remote.img")
    spec["externaldetails"]["virtualmachine"].update(details)
    return spec


def _left_behind(root: Path) -> list[str]:
    return sorted(p.name for d in (root / "volumes", root / "state" / "vms") if d.exists() for p in d.iterdir())


def test_a_template_url_is_never_fetched_unless_its_source_is_allowed(
    tmp_path: Path, pki: Pki, images: _CountingServer
) -> None:
    checksum = "sha256:" + hashlib.sha256(images.image).hexdigest()
    agent = _agent(tmp_path, pki, templates={"allowed_sources": [f"{images.url}/allowed/"]})
    try:
        with client(agent.url, pki, auth=None) as http:
            for url in (f"{images.url}/remote.img", f"{images.url}/allowed/../remote.img",
                        "http://169.254.169.254/latest/meta-data/"):
                reply = http.post("/v1/vms", json={"spec": _spec("dl-1", image_url=url, image_checksum=checksum)})
                assert reply.status_code == 400, reply.text
                assert "refused" in reply.json()["error"]
        assert images.requests == 0
        assert _left_behind(tmp_path) == []
    finally:
        agent.stop()


def test_with_the_default_config_no_url_is_fetched(tmp_path: Path, pki: Pki, images: _CountingServer) -> None:
    checksum = "sha256:" + hashlib.sha256(images.image).hexdigest()
    agent = _agent(tmp_path, pki)
    try:
        with client(agent.url, pki, auth=None) as http:
            spec = _spec("dl-2", image_url=f"{images.url}/remote.img", image_checksum=checksum)
            reply = http.post("/v1/vms", json={"spec": spec})
        assert reply.status_code == 400 and "allows no template downloads" in reply.json()["error"]
        assert images.requests == 0
    finally:
        agent.stop()


def test_disks_above_the_configured_maxima_are_refused_before_anything_is_made(tmp_path: Path, pki: Pki) -> None:
    agent = _agent(tmp_path, pki, limits={"max_root_disk_size": "20G", "max_data_disk_size": "10G",
                                          "max_data_disks": 2})
    try:
        with client(agent.url, pki, auth=None) as http:
            for details, error in [
                ({"root_disk_size": "21G"}, "root disk size 21 GiB is above this host's maximum of 20 GiB"),
                ({"root_disk_size": "8E"}, "cannot read size"),
                ({"data_disks": "1G,11G"}, "data disk 2 size 11 GiB is above this host's maximum of 10 GiB"),
                ({"data_disks": "1G,1G,1G"}, "3 data disks asked for; this host allows 2"),
            ]:
                reply = http.post("/v1/vms", json={"spec": _spec("big-1", **details)})
                assert reply.status_code == 400, reply.text
                assert error in reply.json()["error"]
            # CloudStack's own detail (GiB) is capped the same way.
            spec = _spec("big-1")
            spec["cloudstack.vm.details"]["details"]["rootdisksize"] = "100"
            reply = http.post("/v1/vms", json={"spec": spec})
            assert reply.status_code == 400 and "100 GiB is above" in reply.json()["error"]
        assert _left_behind(tmp_path) == []
    finally:
        agent.stop()
