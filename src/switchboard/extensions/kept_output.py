"""The copy of an extension's output that Switchboard keeps where people read it: job results, events.

An extension may print anything, at any length (the runner reads up to 1 MiB): terminal escape sequences,
carriage returns that overwrite what came before, text dressed up as log lines. What is kept is bounded to
`KEPT_CHARACTERS`, the beginning and - where errors usually are - the end, with a line saying how much was
cut in between; escape sequences and control characters other than newline and tab are removed. The output
itself is never written to the server's log.

A custom action that succeeded is the one exception to the few KiB: its output is the answer the user asked
for (a `printmessage` table of snapshots, a console log), shown whole by CloudStack, so its result keeps up
to `ACTION_RESULT_CHARACTERS` — enough for real answers, still far below what the runner may read.
"""

from __future__ import annotations

import re

__all__ = ["ACTION_RESULT_CHARACTERS", "KEPT_CHARACTERS", "kept_copy"]

KEPT_CHARACTERS = 8192
ACTION_RESULT_CHARACTERS = 65536
# CSI sequences (ESC [ ... final byte), OSC strings (ESC ] ... BEL or ST), other escapes (ESC, intermediate
# bytes, a final byte), and the remaining C0 controls and DEL.
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]|[\x00-\x08\x0b-\x1f\x7f]"
)


def kept_copy(text: str, limit: int = KEPT_CHARACTERS) -> str:
    """`text` without control characters, at most `limit` characters plus a note: its first quarter and its
    last three quarters, with `[… N characters of output cut …]` between them."""
    clean = _CONTROLS.sub("", text)
    if len(clean) <= limit:
        return clean
    head = limit // 4
    tail = limit - head
    cut = len(clean) - head - tail
    return f"{clean[:head]}\n[… {cut} characters of output cut …]\n{clean[-tail:]}"
