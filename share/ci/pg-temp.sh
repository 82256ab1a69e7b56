#!/bin/sh
# pg-temp.sh start|stop DIR [PORT]: a throwaway PostgreSQL cluster for the tests.
# As root the server runs as user postgres (initdb and postgres refuse to run as root).
# Commits skip the disk flush, which a test never needs; PG_TEMP_DURABLE=1 keeps PostgreSQL's
# defaults (fsync, synchronous_commit) for a benchmark whose figure includes the commit.
set -e
CMD=$1
DIR=$(readlink -f "$2")
PORT=${3:-55432}
SPEED="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PG_TEMP_DURABLE:-0}" = 0 ] || SPEED=""
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "pg-temp.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
AS=""
[ "$(id -u)" != 0 ] || AS="runuser -u postgres --"
case $CMD in
start)
  mkdir -p "$DIR"
  [ -z "$AS" ] || chown postgres:postgres "$DIR"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    $AS "$BIN/initdb" -D "$DIR/data" -U lab --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log"
  fi
  $AS "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 $SPEED -c max_connections=200" \
    start >/dev/null
  $AS "$BIN/createdb" -h "$DIR" -p "$PORT" -U lab lava 2>/dev/null || true
  echo "postgresql://lab@127.0.0.1:$PORT/lava"
  ;;
stop)
  $AS "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "usage: pg-temp.sh start|stop DIR [PORT]" >&2
  exit 2
  ;;
esac
