"""The one settings model: flags over the environment over defaults, values checked at start with messages
that name the variable, and the README's table generated from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from switchboard.compute.settings import ComputeSettings
from switchboard.jobs.settings import JobSettings
from switchboard.settings import Settings, SettingsError, markdown_table, variable

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting of the machine running the tests leaks in."""
    for name in Settings.model_fields:
        monkeypatch.delenv(variable(name), raising=False)


def test_defaults_derive_from_the_data_directory(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path)
    assert settings.data_dir == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'switchboard.db'}"
    assert settings.server_key_file == tmp_path.resolve() / "secret.key"
    assert settings.server_name == f"{os.uname().nodename}:8080"
    assert (settings.host, settings.port, settings.demo, settings.admin_password_clear) == ("127.0.0.1", 8080,
                                                                                            True, None)
    assert settings.guest_vlans == range(100, 4095)
    assert settings.job_settings() == JobSettings()
    assert settings.compute_settings() == ComputeSettings()
    assert settings.extension_path_check_interval == 300


def test_the_environment_is_read_and_flags_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "DATA_DIR": str(tmp_path / "env"), "PORT": "9000", "SERVER_NAME": "ms-1", "DEMO": "off",
        "ADMIN_PASSWORD": "s3cret", "ENFORCE_SIGNATURE_TIMESTAMPS": "true", "GUEST_VLAN_RANGE": " 3000 - 3001 ",
        "EXTRA_MODULES": "a.b, c.d,", "JOB_WORKERS": "2", "JOB_POLL_INTERVAL": "0.25", "HEARTBEAT_INTERVAL": "1",
        "HEARTBEAT_TIMEOUT": "5", "JOB_SHUTDOWN_GRACE": "0", "JOB_EXPIRE": "3600", "EXTENSION_WAIT": "5",
        "POWER_SYNC_INTERVAL": "0.5", "EXTENSIONS_LAYOUT": "cloudstack", "EXTENSIONS_DATA": "/srv/data",
        "KEY_CACHE_TTL": "",
    }.items():
        monkeypatch.setenv(f"SWITCHBOARD_{name}", value)
    settings = Settings.load(data_dir=tmp_path / "flag", port=None, demo=None)
    assert settings.data_dir == (tmp_path / "flag").resolve()  # the flag wins
    assert (settings.port, settings.server_name, settings.demo) == (9000, "ms-1", False)
    assert settings.admin_password_clear == "s3cret" and "s3cret" not in repr(settings)
    assert settings.enforce_signature_timestamps is True
    assert settings.guest_vlans == range(3000, 3002)
    assert settings.extra_modules == ("a.b", "c.d")
    assert settings.key_cache_ttl == 10  # an empty variable counts as unset
    assert (settings.extensions_layout, settings.extensions_data) == ("cloudstack", Path("/srv/data"))
    assert settings.job_settings() == JobSettings(workers=2, poll_interval=0.25, heartbeat_interval=1,
                                                  heartbeat_timeout=5, shutdown_grace=0, expire_after=3600)
    assert settings.compute_settings() == ComputeSettings(wait=5, power_sync_interval=0.5)


@pytest.mark.parametrize(("environment", "message"), [
    ({"JOB_WORKERS": "many"}, "SWITCHBOARD_JOB_WORKERS='many': Input should be a valid integer"),
    ({"JOB_WORKERS": "0"}, "SWITCHBOARD_JOB_WORKERS='0': Input should be greater than or equal to 1"),
    ({"HEARTBEAT_INTERVAL": "-1"}, "SWITCHBOARD_HEARTBEAT_INTERVAL='-1': Input should be greater than 0"),
    ({"HEARTBEAT_INTERVAL": "30", "HEARTBEAT_TIMEOUT": "10"},
     "SWITCHBOARD_HEARTBEAT_TIMEOUT must be longer than SWITCHBOARD_HEARTBEAT_INTERVAL"),
    ({"EXTENSION_WAIT": "soon"}, "SWITCHBOARD_EXTENSION_WAIT='soon'"),
    ({"POWER_SYNC_CONCURRENCY": "0"}, "SWITCHBOARD_POWER_SYNC_CONCURRENCY='0'"),
    ({"EXTENSION_PATH_CHECK_INTERVAL": "-3"}, "SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL='-3'"),
    ({"EXTENSIONS_LAYOUT": "other"}, "SWITCHBOARD_EXTENSIONS_LAYOUT='other'"),
    ({"DEMO": "maybe"}, "SWITCHBOARD_DEMO='maybe'"),
    ({"GUEST_VLAN_RANGE": "10-5"}, "SWITCHBOARD_GUEST_VLAN_RANGE='10-5': must be FIRST-LAST"),
    ({"EXTENSION_ENV_PASSTHROUGH": "HOME,SWITCHBOARD_DATABASE_URL"},
     "SWITCHBOARD_DATABASE_URL: the server's own settings (which hold secrets) are never passed on"),
    ({"EXTENSION_ENV_PASSTHROUGH": "BAD-NAME"}, "'BAD-NAME' is not an environment variable name"),
    ({"EXTENSION_ENV": '{"A B": "x"}'}, "'A B' is not an environment variable name"),
    ({"EXTENSION_ENV": "PYTHONPATH=/opt"}, "SWITCHBOARD_EXTENSION_ENV='PYTHONPATH=/opt': must be a JSON object"),
])
def test_bad_values_are_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    environment: dict[str, str], message: str) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(f"SWITCHBOARD_{name}", value)
    with pytest.raises(SettingsError) as refused:
        Settings.load(data_dir=tmp_path)
    assert message in str(refused.value)


@pytest.mark.parametrize("text", ["0-10", "10-5", "100", "1-4095", "a-b"])
def test_bad_vlan_ranges_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("SWITCHBOARD_GUEST_VLAN_RANGE", text)
    with pytest.raises(SettingsError, match="SWITCHBOARD_GUEST_VLAN_RANGE="):
        Settings.load(data_dir=tmp_path)


def test_a_bad_flag_is_named_as_the_flag(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--port=0: Input should be greater than or equal to 1"):
        Settings.load(data_dir=tmp_path, port=0)


def test_every_problem_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_JOB_WORKERS", "0")
    monkeypatch.setenv("SWITCHBOARD_EXTENSION_WAIT", "0")
    with pytest.raises(SettingsError) as refused:
        Settings.load(data_dir=tmp_path)
    assert "SWITCHBOARD_JOB_WORKERS" in str(refused.value) and "SWITCHBOARD_EXTENSION_WAIT" in str(refused.value)


def test_the_readme_settings_table_is_the_generated_one() -> None:
    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme, "regenerate it: python -m switchboard.settings"
    documented = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `SWITCHBOARD_")}
    assert documented == {variable(name) for name in Settings.model_fields}


def test_extensions_get_the_variables_passed_through_and_added(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", "a,b")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SWITCHBOARD_EXTENSION_ENV_PASSTHROUGH", "HTTPS_PROXY, NO_PROXY,REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("SWITCHBOARD_EXTENSION_ENV", '{"PYTHONPATH": "/opt/lib", "NO_PROXY": "c,d"}')
    settings = Settings.load(data_dir=tmp_path)
    assert settings.extension_env_passthrough == ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE")
    # A variable the server lacks is not made up; an added one wins over the passed-through one.
    assert settings.extension_environment() == {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "c,d",
                                                "PYTHONPATH": "/opt/lib"}
    assert Settings.load(data_dir=tmp_path / "x", extension_env_passthrough=()).extension_environment() == {
        "NO_PROXY": "c,d", "PYTHONPATH": "/opt/lib"}
