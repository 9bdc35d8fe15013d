"""`switchboard ext …`: the extension author's kit on the command line.

    switchboard ext scaffold NAME --lang bash|python [--dir D]
    switchboard ext check PATH [--timeout S] [--details FILE] [--python PY] [--json]

Exit codes: 0 success / the executable passes, 1 the check found errors or the skeleton could not be
written, 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from switchboard.errors import Conflict
from switchboard.extensions.kit.check import CheckReport, check_executable
from switchboard.extensions.kit.details import DetailsError, load_details
from switchboard.extensions.kit.scaffold import write_skeleton

__all__ = ["main", "render_report"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard ext", description="Write and check extension executables.")
    sub = parser.add_subparsers(dest="command", required=True)
    scaffold = sub.add_parser("scaffold", help="write a working skeleton extension")
    scaffold.add_argument("name", help="extension name (its directory is the name, sanitised and lower-cased)")
    scaffold.add_argument("--lang", choices=("bash", "python"), default="bash")
    scaffold.add_argument("--dir", default=".", help="where to create the extension's directory (default .)")
    check = sub.add_parser("check", help="run an executable through every action and report problems")
    check.add_argument("path", help="the executable")
    check.add_argument("--timeout", type=int, default=10, help="seconds passed as argv[3] (default 10)")
    check.add_argument("--details", metavar="FILE", help="JSON with a live backend's extension, cluster, host, "
                       "template, offering and vm details, merged over the sample payloads (see docs/extensions.md)")
    check.add_argument("--python", metavar="PY", help="run an entry file with this Python instead of its #! line "
                       "(a built-in's runs with this one's Python, as the server runs it)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def render_report(report: CheckReport, out: TextIO) -> None:
    """The human-readable report."""
    out.write(f"Checking {report.path} (timeout {report.timeout} s)\n")
    for finding in report.findings:
        out.write(f"  {finding.severity.upper()}: {finding.message}\n")
    for step in report.steps:
        status = "ok  " if step.passed else "FAIL"
        code = "timeout" if step.timed_out else f"exit {step.exit_code}"
        out.write(f"  {status} {step.step:<18} {code:<8} {step.duration:6.2f} s\n")
        for finding in step.findings:
            out.write(f"         {finding.severity}: {finding.message}\n")
    errors = sum(f.severity == "error" for f in report.findings) + sum(
        f.severity == "error" for s in report.steps for f in s.findings
    )
    warnings = sum(f.severity == "warning" for f in report.findings) + sum(
        f.severity == "warning" for s in report.steps for f in s.findings
    )
    verdict = "PASS" if report.passed else "FAIL"
    out.write(f"{verdict}: {errors} error(s), {warnings} warning(s)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `switchboard ext`; returns the process exit code."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "scaffold":
        try:
            target = write_skeleton(args.name, language=args.lang, parent=Path(args.dir))
        except (Conflict, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(target)
        return 0
    if args.timeout < 1:
        print("error: --timeout must be at least 1 second", file=sys.stderr)
        return 2
    try:
        details = load_details(Path(args.details)) if args.details else None
    except DetailsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(check_executable(Path(args.path), timeout=args.timeout, details=details,
                                          python=args.python))
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_report(report, sys.stdout)
    return 0 if report.passed else 1
