"""A Firecracker stand-in for tests: `FIRECRACKER` is its executable (Firecracker's command line and API,
validated against the v1.13.1 OpenAPI file, with a real guest booted by QEMU TCG underneath)."""

from pathlib import Path

FIRECRACKER = Path(__file__).resolve().parent / "firecracker"
JAILER = Path(__file__).resolve().parent / "jailer"  # a fake jailer that runs FIRECRACKER "chrooted"
