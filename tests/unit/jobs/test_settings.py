"""Job tunables come from the environment and are checked."""

from __future__ import annotations

import pytest

from switchboard.jobs import JobSettings


def test_defaults_apply_when_the_environment_says_nothing() -> None:
    assert JobSettings.from_env({}) == JobSettings()


def test_values_are_read_from_the_environment() -> None:
    settings = JobSettings.from_env({
        "SWITCHBOARD_JOB_WORKERS": "2",
        "SWITCHBOARD_JOB_POLL_INTERVAL": "0.25",
        "SWITCHBOARD_HEARTBEAT_INTERVAL": "1",
        "SWITCHBOARD_HEARTBEAT_TIMEOUT": "5",
        "SWITCHBOARD_JOB_SHUTDOWN_GRACE": "0",
        "SWITCHBOARD_JOB_EXPIRE": "3600",
    })
    assert settings == JobSettings(workers=2, poll_interval=0.25, heartbeat_interval=1, heartbeat_timeout=5,
                                   shutdown_grace=0, expire_after=3600)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SWITCHBOARD_JOB_WORKERS": "many"}, "SWITCHBOARD_JOB_WORKERS='many' is not a valid int"),
        ({"SWITCHBOARD_JOB_WORKERS": "0"}, "at least one worker"),
        ({"SWITCHBOARD_HEARTBEAT_INTERVAL": "-1"}, "heartbeat_interval must be positive"),
        ({"SWITCHBOARD_HEARTBEAT_INTERVAL": "30", "SWITCHBOARD_HEARTBEAT_TIMEOUT": "10"},
         "heartbeat_timeout must be longer"),
    ],
)
def test_bad_values_are_refused_naming_the_problem(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JobSettings.from_env(env)
