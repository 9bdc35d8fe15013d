"""A full disk, for real (a small tmpfs filled to the last byte): under the database it refuses API writes
with a clear error and makes job workers wait, losing no outcome; under the payload root it fails the
operation clearly and leaves no half-written payload behind. Space freed, everything works again."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStackApiException

from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import build_bed, ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server

pytestmark = pytest.mark.root


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (needs root: CI runs the suite as root)."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs to fill it: run it as root")
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Take every free byte of `disk` (a big file, then small ones for what is left in partial blocks)."""
    with contextlib.suppress(OSError), (disk / "filler").open("ab") as big:
        while True:
            big.write(b"\0" * 65536)
            big.flush()
    for index in range(256):
        try:
            (disk / f"filler-{index}").write_bytes(b"\0" * 512)
        except OSError:
            break


def free(disk: Path) -> None:
    for path in disk.glob("filler*"):
        path.unlink()


# SQLite on purpose (the file's own disk is filled), so not rerun in the PostgreSQL pass; PostgreSQL's
# disk-full errors are classified by SQLSTATE (tests/unit/db/test_outage.py).
def test_a_full_database_disk_refuses_writes_clearly_and_loses_no_outcome(tmp_path: Path) -> None:
    with small_disk(tmp_path / "dbdisk", "16m") as disk, \
            start_server(tmp_path, env=ENV, database_url=f"sqlite:///{disk / 'switchboard.db'}") as server:
        admin = cs_client(server, api_keys_of(server))
        bed = build_bed(server, admin, requires_prepare=False)
        vm = ok(admin, bed.deploy(name=unique("full")))
        bed.behave(stop={"sleep": 2})
        stopping = admin.stopVirtualMachine(id=vm["id"])
        bed.wait_for_action(vm["id"], "stop")
        fill(disk)  # while the extension runs: its outcome cannot be recorded when it ends

        with pytest.raises(CloudStackApiException) as refused:
            admin.createZone(name=unique("z"), networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2")
        error = refused.value.error
        assert error["errorcode"] == 530
        assert error["errortext"] == ("The request was not carried out: the database is out of disk space; "
                                      "nothing was recorded (free disk space on the database's host)")
        assert len(admin.listZones()["zone"]) == 1  # reads go on
        # The stop ends while the disk is full: its outcome waits to be recorded.
        eventually(lambda: f"could not record the stop of instance {vm['id']}" in server.log(),
                   what="the stop's outcome to wait for disk space")
        assert admin.queryAsyncJobResult(jobid=stopping["jobid"])["jobstatus"] == 0
        assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Stopping"

        free(disk)
        job = wait_job(admin, stopping["jobid"], timeout=60)
        assert job["jobstatus"] == 1, job
        assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Stopped"
        assert bed.actions_for(vm["id"]) == ["create", "stop"]  # the stop ran once, and was kept
        zone = admin.createZone(name=unique("z"), networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.2")
        assert zone["zone"]["name"].startswith("z-")
        log = server.log()
        assert "out of disk space" in log and "recorded the stop of instance" in log
        assert "Traceback" not in log  # an operational condition, reported in a line, not as a crash


@pytest.mark.database
def test_a_full_payload_disk_fails_the_operation_clearly(tmp_path: Path) -> None:
    with small_disk(tmp_path / "payloads", "1m") as disk, \
            start_server(tmp_path, env={**ENV, "SWITCHBOARD_EXTENSIONS_DATA": str(disk)}) as server:
        admin = cs_client(server, api_keys_of(server))
        bed = build_bed(server, admin, requires_prepare=False)
        running = ok(admin, bed.deploy(name=unique("ok")))
        fill(disk)

        failed = wait_job(admin, bed.deploy(name=unique("nospace"))["jobid"])
        assert failed["jobstatus"] == 2
        assert "Unable to write the payload file: No space left on device" in failed["jobresult"]["errortext"]
        assert admin.listVirtualMachines(id=failed["jobresult"]["uuidList"][0])["virtualmachine"][0][
            "state"] == "Error"
        stop = wait_job(admin, admin.stopVirtualMachine(id=running["id"])["jobid"])
        assert stop["jobstatus"] == 2 and "No space left on device" in stop["jobresult"]["errortext"]
        assert admin.listVirtualMachines(id=running["id"])["virtualmachine"][0]["state"] == "Running"
        payloads = [p for p in disk.rglob("*.json")]
        assert payloads and all(p.stat().st_size > 0 for p in payloads)  # no half-written payload left

        free(disk)
        assert ok(admin, bed.deploy(name=unique("again")))["state"] == "Running"
