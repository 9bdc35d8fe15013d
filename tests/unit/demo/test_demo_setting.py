"""Whether `switchboard serve` seeds the demo: on by default, off with --no-demo or SWITCHBOARD_DEMO=0."""

from __future__ import annotations

import pytest

from switchboard.cli import _settings, build_parser


@pytest.mark.parametrize(("argv", "env", "expected"), [
    ([], None, True),
    ([], "1", True),
    ([], "0", False),
    ([], "off", False),
    (["--no-demo"], None, False),
    (["--no-demo"], "1", False),
])
def test_demo_setting(monkeypatch: pytest.MonkeyPatch, argv: list[str], env: str | None, expected: bool) -> None:
    if env is None:
        monkeypatch.delenv("SWITCHBOARD_DEMO", raising=False)
    else:
        monkeypatch.setenv("SWITCHBOARD_DEMO", env)
    args = build_parser().parse_args(["serve", *argv])
    assert _settings(args).demo is expected
