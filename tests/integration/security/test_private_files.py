"""The SQLite database, its WAL and shared-memory files and every secret file are 0600 whatever the data
directory's mode or the umask, on a real server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.support.fixtures import api_keys_of, cs_client
from tests.support.server import ServerProcess


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_wal_and_secrets_are_private_in_an_open_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # an existing, world-readable data directory
    old_umask = os.umask(0o022)
    server = ServerProcess(data_dir=data)  # the default database: SQLite in the data directory
    try:
        server.start()
        keys = api_keys_of(server)
        cs_client(server, keys).createDomain(name="sbt-private")  # a write: the WAL is in use
        database = data / "switchboard.db"
        private = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), data / "secret.key",
                   data / "admin-credentials.txt"]
        for path in private:
            assert _mode(path) == 0o600, path
        server.stop()
        # a database left readable by others (an older version, a copy) is narrowed at the next start
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists():
                os.chmod(path, 0o644)
        server.start()
        assert cs_client(server, keys).listDomains(name="sbt-private")["count"] == 1
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert _mode(path) == 0o600, path
    finally:
        os.umask(old_umask)
        server.stop()


def test_db_upgrade_creates_a_private_database(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    data.mkdir(mode=0o755)
    server = ServerProcess(data_dir=data)
    server.cli("db", "upgrade")
    assert _mode(data / "switchboard.db") == 0o600
