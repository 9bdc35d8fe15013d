#!/usr/bin/env python3
"""Build the host agent's own packages from this repository:

* `switchboard_agent-<version>-py3-none-any.whl`: `switchboard.agent` alone, depending on only what it
  imports (packaging/agent/pyproject.toml) — `pip install` it on a host that manages its own Python;
* `switchboard-agent_<version>-1_amd64.deb`: that wheel with its dependencies bundled in
  /usr/lib/switchboard-agent (for Debian 12's python3, 3.11), the `switchboard-agent` command, the
  systemd units, the PAM service file and the sample config (deploy/), and maintainer scripts that
  create the groups, copy the sample config once, issue certificates with `init-tls` (CA key out of the
  agent's directory, the management server's client certificate in `allowed_clients`) and enable the
  units without ever restarting the VMM supervisor.

Usage: `python3 scripts/build-agent-package.py [--out DIR]` (default `dist/`); prints the two paths. Needs pip
(it fetches the dependencies' wheels from PyPI or pip's cache) and dpkg-deb; runs as any user (the
package's files are owned by root through `dpkg-deb --root-owner-group`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = REPO / "packaging" / "agent"
LIB = "usr/lib/switchboard-agent"

# `-I -S`: no environment variables, no user or system site-packages: the agent runs on what the package
# bundles, whatever else is installed on the host.
LAUNCHER = """#!/usr/bin/python3 -IS
# The Switchboard host agent (Debian package switchboard-agent); its Python libraries are bundled.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib" / "switchboard-agent"))
from switchboard.agent.cli import entry  # noqa: E402

entry()
"""

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: switchboard

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0. The bundled Python libraries in /usr/lib/switchboard-agent carry
 their own licences in their *.dist-info directories.
"""


class BuildError(RuntimeError):
    """A step failed; the message says which."""


def _run(*argv: str, cwd: Path | None = None) -> None:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        raise BuildError(f"{argv[0]} not found")
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(argv[:4])} ... failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}")


def project_version() -> str:
    """The version of the project (the agent package must carry the same one)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    agent = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]["version"]
    if project != agent:
        raise BuildError(f"packaging/agent/pyproject.toml says {agent}, the project {project}: make them equal")
    return str(project)


def build_wheel(out: Path, work: Path) -> Path:
    """The agent-only wheel, built from a copy of the agent's sources beside the agent's pyproject."""
    source = work / "source"
    shutil.copytree(REPO / "src" / "switchboard" / "agent", source / "src" / "switchboard" / "agent",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(REPO / "src" / "switchboard" / "__init__.py", source / "src" / "switchboard" / "__init__.py")
    shutil.copy2(HERE / "pyproject.toml", source / "pyproject.toml")
    shutil.copy2(REPO / "docs" / "agent.md", source / "README.md")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source))
    wheels = sorted(out.glob("switchboard_agent-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one switchboard_agent wheel in {out}, found {wheels}")
    return wheels[0]


def _tree_size_kib(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024 + 1


def build_deb(out: Path, wheel: Path, version: str, work: Path) -> Path:
    """The Debian package: the wheel and its dependencies bundled, plus units, PAM file and sample config."""
    if sys.version_info[:2] != (3, 11):
        raise BuildError("the .deb bundles compiled libraries for Debian 12's python3 (3.11); build with 3.11")
    root = work / "deb"
    lib = root / LIB
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--only-binary=:all:",
         "--target", str(lib), str(wheel))
    shutil.rmtree(lib / "bin", ignore_errors=True)  # console scripts for the build's interpreter
    for cache in lib.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    deploy = REPO / "deploy"
    files = {
        "usr/bin/switchboard-agent": (LAUNCHER.encode(), 0o755),
        "lib/systemd/system/switchboard-agent.service": ((deploy / "switchboard-agent.service").read_bytes(), 0o644),
        "lib/systemd/system/switchboard-agent-vmms.service": (
            (deploy / "switchboard-agent-vmms.service").read_bytes(), 0o644),
        "etc/pam.d/switchboard-agent": ((deploy / "pam.d/switchboard-agent").read_bytes(), 0o644),
        "usr/share/switchboard-agent/firecracker-agent.json": ((deploy / "firecracker-agent.json").read_bytes(), 0o644),
        "usr/share/doc/switchboard-agent/copyright": (COPYRIGHT.encode(), 0o644),
        "usr/share/doc/switchboard-agent/README.md": ((REPO / "docs/agent.md").read_bytes(), 0o644),
    }
    for relative, (content, mode) in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
    control = root / "DEBIAN"
    control.mkdir()
    text = (HERE / "debian" / "control").read_text()
    (control / "control").write_text(
        text.replace("@VERSION@", f"{version}-1").replace("@SIZE@", str(_tree_size_kib(root)))
    )
    for name in ("conffiles", "postinst", "prerm", "postrm"):
        shutil.copy2(HERE / "debian" / name, control / name)
        (control / name).chmod(0o755 if name != "conffiles" else 0o644)
    control.chmod(0o755)
    deb = out / f"switchboard-agent_{version}-1_amd64.deb"
    deb.unlink(missing_ok=True)
    _run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb))
    return deb


def build(out: Path) -> tuple[Path, Path]:
    """Build both packages into `out`; returns (wheel, deb). Raises BuildError."""
    version = project_version()
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("switchboard_agent-*.whl"), *out.glob("switchboard-agent_*.deb")]:
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="switchboard-agent-build-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        wheel = build_wheel(out, work)
        deb = build_deb(out, wheel, version, work)
    return wheel, deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        wheel, deb = build(args.out)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    print(wheel)
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
