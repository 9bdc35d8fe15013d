"""docs/api.md, the page CloudStack's client users read, says of every command what the registry does."""

from __future__ import annotations

import re
from pathlib import Path

import switchboard.api.commands  # noqa: F401  (registers every API command)
from switchboard.api.registry import REGISTRY

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
ROW = re.compile(r"^\| `(\w+)` \| [ALTC]* \| ([a-z ]+?) \|")


def _statuses() -> dict[str, str]:
    return {match[1]: match[2] for line in API_DOC.read_text().splitlines() if (match := ROW.match(line))}


def test_every_command_answered_is_in_the_table_as_answered() -> None:
    statuses = _statuses()
    answered = {command.name for command in REGISTRY}
    assert sorted(answered - statuses.keys()) == []
    assert sorted(name for name in answered if statuses[name] not in ("supported", "partial")) == []


def test_no_command_is_called_supported_that_the_server_does_not_answer() -> None:
    answered = {command.name for command in REGISTRY}
    claimed = {name for name, status in _statuses().items() if status in ("supported", "partial")}
    assert sorted(claimed - answered) == []
