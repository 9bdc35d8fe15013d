"""The `switchboard` command line: serve, db, admin, agent, ext."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.settings import Settings


def _database_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (default ./data or $SWITCHBOARD_DATA_DIR)")
    parser.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")
    parser.add_argument("--key-file", help="the server key (default <data dir>/secret.key or $SWITCHBOARD_KEY_FILE); "
                                           "servers sharing a database must share it")


def _settings(args: argparse.Namespace) -> Settings:
    """The settings: these flags, then the environment (see switchboard.settings). Raises SettingsError."""
    from switchboard.settings import Settings

    return Settings.load(
        data_dir=args.data_dir,
        database_url=args.database_url,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        demo=False if getattr(args, "no_demo", False) else None,
        key_file=getattr(args, "key_file", None),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Orchestrate anything that can run an instance.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the management server")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to bind (default 8080)")
    serve.add_argument("--no-demo", action="store_true",
                       help="do not seed the demo cloud into an empty cloud (or SWITCHBOARD_DEMO=0)")
    _database_flags(serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    _database_flags(db_upgrade)

    admin = sub.add_parser("admin", help="administrative tasks")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    keys = admin_sub.add_parser("api-keys", help="create (or show) a user's API key pair as JSON")
    _database_flags(keys)
    keys.add_argument("--username", default="admin")
    reset = admin_sub.add_parser("reset-password", help="give a user (default: admin) a new password; it is shown "
                                 "on the terminal, else written to a 0600 file in the data directory")
    _database_flags(reset)
    reset.add_argument("--username", default="admin")
    reset.add_argument("--domain", default="ROOT", help="the user's domain path (default ROOT)")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the new password from the first line of stdin instead of generating one")

    sub.add_parser("agent", help="the Firecracker host agent (see `switchboard agent --help`)", add_help=False)
    sub.add_parser("ext", help="extension author's kit (see `switchboard ext --help`)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin at every start
    # Sub-tools with their own parsers get the rest of the command line untouched.
    if args_list and args_list[0] == "agent":
        from switchboard.agent.cli import main as agent_main

        return agent_main(args_list[1:])
    if args_list and args_list[0] == "ext":
        from switchboard.extensions.kit.cli import main as ext_main

        return ext_main(args_list[1:])

    from switchboard.settings import SettingsError

    args = build_parser().parse_args(args_list)
    try:
        settings = _settings(args)
    except SettingsError as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from switchboard.server import serve

        serve(settings)
        return 0
    if args.command == "db":
        from switchboard.db.engine import make_engine
        from switchboard.db.migrate import upgrade

        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        engine.dispose()
        print("database is up to date")
        return 0
    if args.command == "admin":
        from switchboard.admin import api_keys, reset_password

        if args.admin_command == "reset-password":
            return reset_password(settings, username=args.username, domain=args.domain,
                                  password_from=sys.stdin if args.password_stdin else None)
        return api_keys(settings, username=args.username)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
