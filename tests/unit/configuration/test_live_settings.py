"""Settings under CloudStack's names: what the server started with, a dynamic one's stored global value
winning over it (read again after `forget`, and at most every `ttl` seconds otherwise), and the checks a
value must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.configuration import DEFINITIONS, LiveSettings, Scope, set_value
from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.settings import Settings

pytestmark = pytest.mark.database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    upgrade(db.engine)
    yield db
    db.dispose()


def _store(db: Database, name: str, value: str) -> None:
    with db.session() as session:
        set_value(session, name, value, scope=Scope.GLOBAL)


def test_a_dynamic_setting_set_globally_wins_over_what_the_server_started_with(database: Database) -> None:
    live = LiveSettings(database, {"wait": "30", "ping.interval": "60"}, ttl=3600)
    assert live.integer("wait") == 30
    _store(database, "wait", "45")
    assert live.integer("wait") == 30  # read again only after `ttl` ...
    live.forget()  # ... or once this server changed it
    assert live.integer("wait") == 45
    # A non-dynamic one keeps what the server started with, whatever is stored.
    _store(database, "ping.interval", "5")
    live.forget()
    assert live.value("ping.interval") == "60"
    assert LiveSettings(database, {}).value("job.expire.minutes") == "1440"  # CloudStack's default


def test_values_are_checked_against_the_settings_rules() -> None:
    wait = DEFINITIONS["wait"]
    assert wait.parse(" 12 ") == "12"
    with pytest.raises(ValueError, match="at least 1"):
        wait.parse("0")
    with pytest.raises(ValueError, match="at most 1048576"):
        DEFINITIONS["vm.userdata.max.length"].parse("2000000")
    with pytest.raises(ValueError, match="not settings: nope"):
        LiveSettings(None, {"nope": "1"})


def test_the_server_settings_are_shown_in_cloudstacks_names_and_units(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SWITCHBOARD_{name.upper()}", raising=False)
    settings = Settings.load(data_dir=tmp_path, extension_wait=90, job_expire=7200.0, heartbeat_interval=2.5,
                             enforce_signature_timestamps=True)
    values = settings.configuration_values()
    assert values == {"wait": "90", "job.expire.minutes": "120", "extension.path.state.check.interval": "300",
                      "ping.interval": "60", "enforce.post.requests.and.timestamps": "true",
                      "cluster.heartbeat.interval": "2500", "cluster.heartbeat.threshold": "20000"}
    # Every server setting names the variable it comes from; the stored ones name none.
    assert {name for name, s in DEFINITIONS.items() if s.variable} == set(values)
    for name in values:
        variable = DEFINITIONS[name].variable
        assert variable is not None and variable.removeprefix("SWITCHBOARD_").lower() in Settings.model_fields
