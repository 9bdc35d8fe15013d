#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on loopback, run as the `postgres` user (it refuses root).
#   scripts/pg.sh start DIR PORT   → prints the SQLAlchemy URL of its `postgres` database
#   scripts/pg.sh stop DIR
set -euo pipefail
action=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
case "$action" in
  start)
    port=$3
    mkdir -p "$dir"
    chown postgres: "$dir"
    chmod 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      su postgres -s /bin/sh -c "$bin/initdb -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    fi
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$dir/data' -l '$dir/pg.log' -w -o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300 -c fsync=off\" start" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$dir/data' -m fast -w stop" >/dev/null || true
    ;;
esac
