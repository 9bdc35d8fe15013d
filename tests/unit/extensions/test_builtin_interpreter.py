"""Built-ins written in Python are installed to run with the server's own interpreter (which has their
packages, e.g. pywinrm), since extensions run with a clean environment."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.extensions.builtins import install_builtin_files
from switchboard.extensions.paths import ExtensionRoots


def _shipped(tmp_path: Path) -> Path:
    source = tmp_path / "shipped"
    (source / "HyperV").mkdir(parents=True)
    (source / "HyperV" / "hyperv.py").write_text("#!/usr/bin/env python3\nprint('hello')\n")
    (source / "HyperV" / "helper.py").write_text("#!/usr/bin/env python3\n")
    (source / "HyperV" / "extension.json").write_text(json.dumps(
        {"name": "HyperV", "description": "d", "entrypoint": "hyperv.py"}))
    (source / "Proxmox").mkdir()
    (source / "Proxmox" / "proxmox.sh").write_text("#!/usr/bin/env python3\n")  # not the entry point's kind
    (source / "Proxmox" / "run.sh").write_text("#!/bin/bash\necho hi\n")
    (source / "Proxmox" / "extension.json").write_text(json.dumps(
        {"name": "Proxmox", "description": "d", "entrypoint": "run.sh"}))
    return source


def test_a_python_entry_point_names_the_servers_interpreter(tmp_path: Path) -> None:
    source = _shipped(tmp_path)
    roots = ExtensionRoots(extensions=tmp_path / "root", payloads=tmp_path / "data")
    python = "/opt/switchboard/venv/bin/python3"

    assert "HyperV/hyperv.py" in install_builtin_files(roots, source=source, python=python)
    assert (roots.extensions / "HyperV" / "hyperv.py").read_text() == f"#!{python}\nprint('hello')\n"
    assert (roots.extensions / "HyperV" / "helper.py").read_text() == "#!/usr/bin/env python3\n"  # not an entry
    assert (roots.extensions / "Proxmox" / "run.sh").read_text() == "#!/bin/bash\necho hi\n"
    assert (roots.extensions / "Proxmox" / "proxmox.sh").read_text() == "#!/usr/bin/env python3\n"
    assert install_builtin_files(roots, source=source, python=python) == []  # installed copy is up to date
    assert install_builtin_files(roots, source=source, python="/usr/local/bin/python3.12") == ["HyperV/hyperv.py"]


def test_an_interpreter_that_cannot_be_named_in_a_shebang_keeps_env(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "root", payloads=tmp_path / "data")
    with caplog.at_level(logging.WARNING):
        install_builtin_files(roots, source=_shipped(tmp_path), python="/opt/my venv/bin/python3")
    assert (roots.extensions / "HyperV" / "hyperv.py").read_text().startswith("#!/usr/bin/env python3\n")
    assert "cannot be named in a #! line" in caplog.text


def test_the_shipped_hyperv_extension_runs_with_its_packages_in_a_clean_environment(tmp_path: Path) -> None:
    roots = ExtensionRoots(extensions=tmp_path / "root", payloads=tmp_path / "data")
    install_builtin_files(roots)
    entry = roots.extensions / "HyperV" / "hyperv.py"
    assert entry.read_text().startswith(f"#!{sys.executable}\n") and os.access(entry, os.X_OK)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"virtualmachinename": "i-2-3-VM", "externaldetails": {
        "host": {"url": f"127.0.0.1:{port}", "username": "u", "password": "p-secret"}}}))
    done = subprocess.run([str(entry), "status", str(payload), "20"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    # pywinrm was found (the server's interpreter): the failure is the closed port
    assert done.returncode == 1 and "cannot connect to the Hyper-V host" in json.loads(done.stdout)["error"]
