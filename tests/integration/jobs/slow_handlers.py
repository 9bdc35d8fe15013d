"""Test-only job handlers and an async API command, loaded into real server processes through
SWITCHBOARD_EXTRA_MODULES=tests.integration.jobs.slow_handlers.

They leave traces in the directory SBT_JOBS_DIR names, tagged with SBT_JOBS_LABEL (which server):
    <job>.started.<label>       a slow job began running
    <job>.interrupted.<label>   the recovery hook ran (content: the interruption text)
    <job>.ran                   one line per run of a quick job (so a second run would show)
A slow job runs until the file its `release` argument names (default `release`) exists in that directory,
or `seconds` pass: then it fails.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest
from switchboard.errors import OperationFailed
from switchboard.jobs import JobContext, JobService
from switchboard.roles import ALL_ROLES


def _traces() -> Path:
    return Path(os.environ["SBT_JOBS_DIR"])


def _label() -> str:
    return os.environ.get("SBT_JOBS_LABEL", "server")


def slow(ctx: JobContext) -> dict[str, Any]:
    traces = _traces()
    (traces / f"{ctx.job_uuid}.started.{_label()}").write_text(str(os.getpid()))
    deadline = time.monotonic() + float(ctx.args.get("seconds", 120))
    release = traces / str(ctx.args.get("release") or "release")
    while not release.exists():
        if time.monotonic() > deadline:
            raise OperationFailed("the slow job was never released")
        time.sleep(0.05)
    return {"sbtslow": {"label": _label(), "job": ctx.job_uuid}}


def repair(ctx: JobContext) -> None:
    (_traces() / f"{ctx.job_uuid}.interrupted.{_label()}").write_text(ctx.interruption or "")


def quick(ctx: JobContext) -> dict[str, Any]:
    with (_traces() / f"{ctx.job_uuid}.ran").open("a") as runs:
        runs.write(_label() + "\n")
    return {"sbtquick": {"n": ctx.args.get("n")}}


def register_job_handlers(jobs: JobService) -> None:
    jobs.handlers.register("sbtSlow", slow, on_interrupted=repair)
    jobs.handlers.register("sbtQuick", quick)


@api_command(
    "sbtSlowJob",
    params=[
        Param("seconds", ParamType.INTEGER, description="give up after this many seconds"),
        Param("release", ParamType.STRING, description="run until this file exists in SBT_JOBS_DIR"),
    ],
    roles=ALL_ROLES,
    description="Test only: a job that runs until released.",
    is_async=True,
)
def slow_job_command(call: Call) -> AsyncJobRequest:
    return AsyncJobRequest(handler="sbtSlow",
                           args={"seconds": call.get("seconds", 120), "release": call.get("release", "release")})
