"""Several servers on one database share one key file named by `--key-file` / SWITCHBOARD_KEY_FILE."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.fixtures import api_keys_of, cs_client, signed_get, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def test_servers_with_their_own_data_dirs_share_the_named_key_file(tmp_path: Path) -> None:
    shared_key = tmp_path / "etc" / "switchboard" / "secret.key"  # its directory does not exist yet
    with start_server(tmp_path / "first", env={"SWITCHBOARD_KEY_FILE": str(shared_key)}) as first:
        assert stat.S_IMODE(shared_key.stat().st_mode) == 0o600
        assert stat.S_IMODE(shared_key.parent.stat().st_mode) == 0o700
        assert not (first.data_dir / "secret.key").exists()
        keys = api_keys_of(first)
        second = ServerProcess(data_dir=tmp_path / "second" / "data", database_url=first.database_url,
                               env={"SWITCHBOARD_SERVER_NAME": "second"})
        # the flag wins over the environment, so the second server reads the same file through the flag
        second.env["SWITCHBOARD_KEY_FILE"] = str(tmp_path / "not-this-one.key")
        second.serve_args = ["--key-file", str(shared_key)]
        second.start()
        try:
            assert cs_client(second, keys).listDomains()["count"] == 1  # the sealed secret opens there too
            assert not (tmp_path / "not-this-one.key").exists()
        finally:
            second.stop()


def test_a_server_given_another_key_file_cannot_open_the_databases_secrets(tmp_path: Path) -> None:
    with start_server(tmp_path / "first", env={"SWITCHBOARD_KEY_FILE": str(tmp_path / "a.key")}) as first:
        keys = api_keys_of(first)
        other = ServerProcess(data_dir=tmp_path / "other" / "data", database_url=first.database_url,
                              env={"SWITCHBOARD_SERVER_NAME": "other", "SWITCHBOARD_KEY_FILE": str(tmp_path / "b.key")})
        other.start()
        try:
            assert signed_get(other, {"command": "listDomains"}, keys).status_code == 401
            assert "does not open with this server's key file" in other.log()
        finally:
            other.stop()
