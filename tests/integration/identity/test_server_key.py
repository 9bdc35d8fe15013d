"""The server key file, first start, and CloudStack's enforced request timestamps, on servers of their own."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from pathlib import Path

import pytest
from cs import CloudStackApiException

from tests.support.fixtures import api_keys_of, cs_client, signed_get, start_server

pytestmark = pytest.mark.database


def _expires(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S%z")


def test_first_start_hands_credentials_over_once_and_the_key_file_is_private(tmp_path: Path) -> None:
    # (stdout is not a terminal here: the credentials go to a 0600 file, never to the log; see test_passwords)
    with start_server(tmp_path) as server:
        key_file = server.data_dir / "secret.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        handed = server.data_dir / "admin-credentials.txt"
        assert handed.read_text().count("admin password:") == 1
        keys = api_keys_of(server)
        assert f"admin secret key: {keys['secretkey']}" in handed.read_text()
        assert keys["secretkey"] not in server.log()
        assert api_keys_of(server) == keys  # created once, then returned
        handed.unlink()
        server.stop()
        server.start()
        assert not handed.exists()  # not again on the second start
        assert server.log().count(str(handed)) == 1
        assert cs_client(server, keys).listDomains()["count"] == 1


def test_a_foreign_or_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    with start_server(tmp_path) as server:
        keys = api_keys_of(server)
        server.stop()
        key_file = server.data_dir / "secret.key"
        key_file.write_text(secrets.token_hex(32) + "\n")
        server.start()
        reply = signed_get(server, {"command": "listDomains"}, keys)
        assert reply.status_code == 401
        assert "does not open with this server's key file" in server.log()
        # and a key file that others may read is refused outright
        server.stop()
        os.chmod(key_file, 0o644)
        with pytest.raises(RuntimeError, match="chmod 600"):
            server.start(timeout=30)


def test_enforced_timestamps_require_version_3_and_a_near_expiry(tmp_path: Path) -> None:
    with start_server(tmp_path, env={"SWITCHBOARD_ENFORCE_SIGNATURE_TIMESTAMPS": "true"}) as server:
        keys = api_keys_of(server)
        assert cs_client(server, keys).listDomains()["count"] == 1  # cs: version 3, expires in 10 minutes
        with pytest.raises(CloudStackApiException) as failure:
            cs_client(server, keys, expiration=-1).listDomains()  # version 1
        assert failure.value.error["errorcode"] == 401
        far = signed_get(server, {"command": "listDomains", "signatureversion": "3",
                                  "expires": _expires(dt.timedelta(minutes=20))}, keys)
        assert far.status_code == 401
        near = signed_get(server, {"command": "listDomains", "signatureversion": "3",
                                   "expires": _expires(dt.timedelta(minutes=14))}, keys)
        assert near.status_code == 200
