"""An extension's output never reaches the server's log, and the copy a job result and an event keep is
bounded and free of terminal escapes, on a real server with a real flooding executable."""

from __future__ import annotations

import pytest
from cs import CloudStack

from tests.integration.compute.env import build_bed, unique, wait_job
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

FLOOD = r'''#!/bin/bash
# On create: 4 MB of red, carriage-returned text dressed up as log lines, and fail.
if [ "$1" = create ]; then
  yes "$(printf '\033[31m2025-01-01 00:00:00,000 ERROR switchboard.server: forged log line\r')" | head -c 4000000
  exit 3
fi
echo '{"status":"success"}'
'''


def test_a_flooding_extension_is_cut_to_a_few_kib_and_kept_out_of_the_log(
        compute_server: ServerProcess, compute_admin: CloudStack) -> None:
    bed = build_bed(compute_server, compute_admin, requires_prepare=False, script=FLOOD, filename="flood.sh")
    answer = bed.deploy(name=unique("flood"))
    job = wait_job(bed.admin, answer["jobid"], timeout=60)
    assert job["jobstatus"] == 2
    text = job["jobresult"]["errortext"]
    assert text.startswith("Failed to create instance ") and "Exit code: 3, Output: " in text
    assert len(text.encode()) < 9 * 1024
    # the beginning and the end of what the runner read (its first MiB, with its own note), the middle cut
    assert "characters of output cut" in text and text.endswith("more bytes not shown]")
    assert "\x1b" not in text and "\r" not in text
    events = bed.admin.listEvents(resourceid=answer["id"], type="VM.CREATE", listall=True)["event"]
    failed = [e["description"] for e in events if e["level"] == "ERROR"]
    assert len(failed) == 1 and "characters of output cut" in failed[0]
    assert len(failed[0].encode()) < 9 * 1024 and "\x1b" not in failed[0]
    assert "forged log line" not in compute_server.log()
