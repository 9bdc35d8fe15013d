"""Firecracker-style log lines for the stand-in, to stderr until `PUT /logger` (or `--log-path`) names a file."""

from __future__ import annotations

import contextlib
import datetime
import os
import sys

_LEVELS = {"off": 0, "error": 1, "warning": 2, "warn": 2, "info": 3, "debug": 4, "trace": 5}


class FcLogger:
    """Writes `<timestamp> [<id>:main:<LEVEL>] message` lines, filtered by level."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.level = _LEVELS["info"]
        self.show_level = False
        self.fd: int | None = None

    def configure(
        self,
        *,
        log_path: str | None = None,
        level: str = "Info",
        show_level: bool = False,
        show_log_origin: bool = False,
        module: str | None = None,
    ) -> None:
        """Like Firecracker: the file (or FIFO) must exist already. OSError otherwise."""
        if log_path:
            fd = os.open(log_path, os.O_RDWR | os.O_NONBLOCK | os.O_APPEND | os.O_CLOEXEC)
            if self.fd is not None:
                os.close(self.fd)
            self.fd = fd
        self.level = _LEVELS.get(level.lower(), self.level)
        self.show_level = show_level

    def _write(self, level: str, message: str) -> None:
        if _LEVELS[level.lower()] > self.level:
            return
        stamp = datetime.datetime.now().isoformat(timespec="microseconds")
        tag = f"{self.instance_id}:main:{level.upper()}" if self.show_level else f"{self.instance_id}:main"
        line = f"{stamp} [{tag}] {message}\n".encode()
        if self.fd is None:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
            return
        with contextlib.suppress(BlockingIOError):  # a full FIFO drops the line, as Firecracker does
            os.write(self.fd, line)

    def info(self, message: str) -> None:
        self._write("info", message)

    def warn(self, message: str) -> None:
        self._write("warn", message)

    def error(self, message: str) -> None:
        self._write("error", message)
