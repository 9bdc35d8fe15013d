#!/usr/bin/env bash
# The whole test suite: lint, the tests on SQLite, then the database tests again on a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=$VENV/bin/python

$VENV/bin/ruff check src tests bench scripts
$VENV/bin/lint-imports
$VENV/bin/mypy

# pytest exits 5 when it collects nothing; that is a failure for us.
$PY -m pytest -q -p no:cacheprovider "$@"

pgdir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
trap 'bash scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=$(bash scripts/pg.sh start "$pgdir" "$port")
echo "database tests again on PostgreSQL ($url)"
SWITCHBOARD_TEST_DATABASE_URL=$url $PY -m pytest -q -p no:cacheprovider -m database "$@"
