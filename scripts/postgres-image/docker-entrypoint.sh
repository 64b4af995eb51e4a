#!/bin/sh
# Entrypoint of the image built by scripts/build-postgres-image.sh. It runs as
# the postgres user and follows the official image's conventions where the
# tests rely on them:
#
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD, POSTGRES_DB (default
#   POSTGRES_USER), POSTGRES_HOST_AUTH_METHOD (default scram-sha-256; a
#   password is required unless it is "trust"), POSTGRES_INITDB_ARGS, PGDATA.
#
# On first start it initialises the cluster in PGDATA, allows host
# connections from anywhere with that method, and creates POSTGRES_DB. Then
# it runs the server, listening on all addresses, logging to
# stderr. Arguments are the server's: "postgres -c fsync=off" or "-c ...".
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
  exec "$@"
fi
shift

: "${PGDATA:=/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != "trust" ]; then
    echo "entrypoint: the database is uninitialized and POSTGRES_PASSWORD is not set;" \
      "set it, or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" >"$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  {
    echo "host all all 0.0.0.0/0 $auth"
    echo "host all all ::/0 $auth"
  } >>"$PGDATA/pg_hba.conf"
  {
    echo "listen_addresses = '*'"
    echo "jit = off # the image has no JIT provider"
  } >>"$PGDATA/postgresql.conf"
  if [ "$POSTGRES_DB" != "postgres" ]; then
    db="$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')"
    echo "CREATE DATABASE \"$db\"" | postgres --single -j -D "$PGDATA" postgres >/dev/null 2>&1
  fi
  echo "entrypoint: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB, host auth $auth)" >&2
fi

# The server runs as a child so that `docker stop` (SIGTERM) can be turned
# into a fast shutdown (SIGINT), as the official image's STOPSIGNAL does:
# PostgreSQL's own SIGTERM would wait for every client to disconnect, and
# `docker import` cannot set STOPSIGNAL on older engines.
postgres -D "$PGDATA" "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
trap 'kill -QUIT "$pid" 2>/dev/null || true' QUIT
status=0
while :; do
  if wait "$pid"; then status=0; else status=$?; fi
  kill -0 "$pid" 2>/dev/null || break
done
exit "$status"
