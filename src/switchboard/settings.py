"""Process-wide settings of the management server, resolved once from flags and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the server keeps its data and how it reaches its database.

    `database_url` defaults to a SQLite file inside `data_dir`. The key file (`secret.key`, 0600) holds the
    server's own secret; together with the database it is what signs sessions and seals API secrets. It lives
    in `data_dir` unless `key_path` names another place (several servers on one database share one key).
    """

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    server_name: str = field(default_factory=lambda: os.uname().nodename)
    # Seed the demo cloud into an empty cloud at start (`--no-demo` or SWITCHBOARD_DEMO=0 turn it off).
    demo: bool = True
    key_path: Path | None = None

    @property
    def key_file(self) -> Path:
        """The server key file: `key_path` when set, else `secret.key` in the data directory."""
        return self.key_path or self.data_dir / "secret.key"

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        host: str | None = None,
        port: int | None = None,
        demo: bool | None = None,
        key_file: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Flags win over `SWITCHBOARD_DATA_DIR` / `SWITCHBOARD_DATABASE_URL` / `SWITCHBOARD_DEMO` /
        `SWITCHBOARD_KEY_FILE`, which win over defaults."""
        resolved_dir = Path(data_dir or os.environ.get("SWITCHBOARD_DATA_DIR") or "./data").resolve()
        url = database_url or os.environ.get("SWITCHBOARD_DATABASE_URL") or sqlite_url(resolved_dir)
        key = key_file or os.environ.get("SWITCHBOARD_KEY_FILE")
        return cls(
            data_dir=resolved_dir,
            database_url=url,
            host=host or "127.0.0.1",
            port=port if port is not None else 8080,
            demo=demo if demo is not None else _env_flag("SWITCHBOARD_DEMO", default=True),
            key_path=Path(key).resolve() if key else None,
        )


def _env_flag(name: str, *, default: bool) -> bool:
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    return text not in ("0", "false", "no", "off")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'switchboard.db'}"
