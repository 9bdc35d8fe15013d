"""Fixtures for the network tests: throw-away network namespaces named `sbt...`."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

_counter = itertools.count()


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install it (scripts/ci-deps.sh lists the apt packages)")


def sh(*argv: str) -> str:
    """Run a setup command; fail the test with its stderr if it fails."""
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed: {p.stderr.strip()}")
    return p.stdout


def new_netns() -> str:
    need("ip")
    name = f"sbt{os.getpid() % 100000}n{next(_counter)}"
    sh("ip", "netns", "add", name)
    return name


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with `lo` up; deleted (with everything in it) afterwards."""
    name = new_netns()
    sh("ip", "-n", name, "link", "set", "lo", "up")
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
