"""The host agent's own packages, built by scripts/build-agent-package.py: a wheel with only the agent and
its dependencies, and a Debian package that, extracted into a scratch root, runs the agent on Debian's
python3 with nothing but what it bundles — serving real mTLS requests and booting the test guest."""

from __future__ import annotations

import ast
import email
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agent.guest import guest_artifacts
from tests.support.eventually import eventually

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
AGENT_SRC = REPO / "src" / "switchboard" / "agent"
SERVER_ONLY = {"sqlalchemy", "alembic", "jinja2", "psycopg", "python-multipart", "orjson", "argon2-cffi", "pyyaml"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    for tool in ("dpkg-deb", "genisoimage", "qemu-img", "tmux"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (scripts/ci-deps.sh installs it)")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build-agent-package.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    wheel, deb = (Path(line) for line in proc.stdout.split())
    return wheel, deb


def test_the_wheel_is_the_agent_alone_with_only_its_dependencies(built: tuple[Path, Path]) -> None:
    wheel, _deb = built
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(archive.read("switchboard_agent-0.1.0.dist-info/METADATA"))
        entry_points = archive.read("switchboard_agent-0.1.0.dist-info/entry_points.txt").decode()
    code = [n for n in names if not n.startswith("switchboard_agent-")]
    assert "switchboard/agent/cli.py" in code and "switchboard/agent/configdrive.py" in code
    assert all(n == "switchboard/__init__.py" or n.startswith("switchboard/agent/") for n in code), code
    required = {_name(r) for r in metadata.get_all("Requires-Dist")}
    assert not required & SERVER_ONLY
    assert "switchboard-agent = switchboard.agent.cli:entry" in entry_points
    declared = tomllib.loads((REPO / "packaging/agent/pyproject.toml").read_text())["project"]
    assert declared["version"] == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    # Every third-party module the agent imports is a declared dependency (not merely a transitive one).
    owners = packages_distributions()
    imported = set()
    for path in AGENT_SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "switchboard"}
    needed = {_name(owners[m][0]) for m in third_party}
    assert needed <= required, f"imported but not declared: {needed - required}"


def test_the_deb_carries_the_units_the_pam_file_and_the_sample_config(built: tuple[Path, Path]) -> None:
    _wheel, deb = built
    info = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line and not line.startswith(" "))
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == ("switchboard-agent", "0.1.0-1", "amd64")
    for dependency in ("python3 (<< 3.12)", "tmux", "qemu-utils", "genisoimage", "e2fsprogs"):
        assert dependency in fields["Depends"]
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ("./usr/bin/switchboard-agent", "./lib/systemd/system/switchboard-agent.service",
                 "./lib/systemd/system/switchboard-agent-vmms.service", "./etc/pam.d/switchboard-agent",
                 "./usr/share/switchboard-agent/firecracker-agent.json", "./usr/share/doc/switchboard-agent/copyright"):
        assert re.search(rf" {re.escape(path)}$", contents, re.MULTILINE), path
    assert all(" root/root " in line for line in contents.splitlines())
    control = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True).stdout.strip())
    try:
        subprocess.run(["dpkg-deb", "--control", str(deb), str(control)], check=True)
        assert (control / "conffiles").read_text().split() == ["/etc/pam.d/switchboard-agent"]
        for script in ("postinst", "prerm", "postrm"):
            assert subprocess.run(["sh", "-n", str(control / script)]).returncode == 0, script
        postinst = (control / "postinst").read_text()
        # Certificates with the allow-list filled, the CA key out of the agent's directory, and the VMM
        # supervisor never restarted (that would stop every guest).
        assert "init-tls --dir /etc/switchboard-agent/tls --ca-dir /var/lib/switchboard-agent-ca" in postinst
        assert "--config" in postinst and "restart switchboard-agent-vmms" not in postinst
    finally:
        shutil.rmtree(control)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def root(built: tuple[Path, Path], tmp_path: Path) -> Path:
    _wheel, deb = built
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "root")], check=True)
    return tmp_path / "root"


def test_the_extracted_package_runs_the_agent_on_debians_python_alone(root: Path, tmp_path: Path) -> None:
    lib = root / "usr/lib/switchboard-agent"
    bundled = {p.name.lower() for p in lib.iterdir()}
    assert not {"sqlalchemy", "alembic", "jinja2", "psycopg"} & bundled
    assert sorted(p.name for p in (lib / "switchboard").iterdir()) == ["__init__.py", "agent"]
    assert (root / "usr/bin/switchboard-agent").read_text().startswith("#!/usr/bin/python3 -IS\n")
    agent_cmd = [str(root / "usr/bin/switchboard-agent")]

    # The packaged sample config, made local to this test, filled by the packaged init-tls.
    guest = guest_artifacts()
    config: dict[str, Any] = json.loads((root / "usr/share/switchboard-agent/firecracker-agent.json").read_text())
    assert config["security"]["tls"]["allowed_clients"] == []
    (tmp_path / "kernel").mkdir()
    (tmp_path / "images").mkdir()
    shutil.copyfile(guest.kernel, tmp_path / "kernel" / "vmlinux")
    subprocess.run(["cp", "--sparse=always", str(guest.rootfs), str(tmp_path / "images" / "guest.ext4")], check=True)
    port = _free_port()
    config.update(bind_host="127.0.0.1", bind_port=port, auth={"enabled": False})
    config["defaults"]["host"].update(
        vmm="qemu", qemu_accel="tcg", initrd=str(guest.initrd), kernel_dir=str(tmp_path / "kernel"),
        image_dir=str(tmp_path / "images"), state_dir=str(tmp_path / "state"), run_dir=str(tmp_path / "run"),
        log_dir=str(tmp_path / "log"),
    )
    config["defaults"]["storage"]["volume_dir"] = str(tmp_path / "volumes")
    config["defaults"]["net"] = {"driver": "none"}
    config_path = tmp_path / "agent.json"
    config_path.write_text(json.dumps(config))
    tls, ca = tmp_path / "tls", tmp_path / "ca"
    issued = subprocess.run([*agent_cmd, "init-tls", "--dir", str(tls), "--ca-dir", str(ca), "--hostname",
                             "localhost", "--client", "mgmt", "--config", str(config_path)],
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert issued.returncode == 0, issued.stderr

    log = (tmp_path / "agent.log").open("wb")
    proc = subprocess.Popen([*agent_cmd, "serve", "--config", str(config_path)], stdout=log, stderr=log,
                            env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}, start_new_session=True)
    context = ssl.create_default_context(cafile=str(tls / "ca.crt"))
    context.load_cert_chain(str(ca / "client-mgmt.crt"), str(ca / "client-mgmt.key"))
    try:
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context, timeout=120) as http:
            eventually(lambda: proc.poll() is None and http.get("/healthz").status_code == 200,
                       what="the packaged agent to serve", timeout=60, interval=0.2, ignore=httpx.HTTPError)
            # The compiled libraries in use are the bundled ones (Debian's python3, nothing else).
            maps = Path(f"/proc/{proc.pid}/maps").read_text()
            assert str(lib / "pydantic_core") in maps
            assert http.get("/v1/version").json()["version"] == "0.1.0"
            spec = {
                "virtualmachinename": "pkg-1",
                "cloudstack.vm.details": {"name": "pkg-1", "cpus": 1, "maxRam": 256 << 20, "nics": []},
                "externaldetails": {"virtualmachine": {"kernel": "vmlinux", "image": "guest.ext4",
                                                       "boot_args": guest.boot_args}},
            }
            created = http.post("/v1/vms", json={"spec": spec})
            assert created.status_code == 201, created.text
            eventually(lambda: guest.marker in http.get("/v1/vms/pkg-1/console/log").text,
                       what="the guest booted by the packaged agent", timeout=120, interval=0.5)
            assert http.delete("/v1/vms/pkg-1").status_code == 200
            assert not (tmp_path / "volumes" / "pkg-1").exists()
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        sock = tmp_path / "state" / "vmm" / "tmux" / "server.sock"
        if sock.exists():
            subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True)
