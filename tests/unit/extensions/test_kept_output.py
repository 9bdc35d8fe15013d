"""The bounded copy of extension output kept in job results and events."""

from __future__ import annotations

from switchboard.extensions.kept_output import kept_copy


def test_short_output_is_kept_whole_without_control_characters() -> None:
    assert kept_copy("ok\n\tdone") == "ok\n\tdone"
    assert kept_copy("\x1b[31mred\x1b[0m\rover\x00written\x07\x1b(B") == "redoverwritten"


def test_long_output_keeps_its_beginning_and_its_end_and_says_how_much_was_cut() -> None:
    text = "head-" + "x" * 100_000 + "-tail"
    kept = kept_copy(text, limit=1000)
    assert kept.startswith("head-") and kept.endswith("-tail")
    assert "[… 99010 characters of output cut …]" in kept
    assert len(kept) < 1100
