#!/usr/bin/env bash
# pgbench-save.sh measures, with pgbench and one client, what a 1-event
# save costs inside PostgreSQL beside its raw ceiling (issue 17, item 1):
#
#   locked-insert         BEGIN; LOCK TABLE … IN EXCLUSIVE MODE; INSERT; END
#   locked-insert-notify  the same with pg_notify of the new id before END
#   procedure             SELECT stored_events_insert(…) with one event's arrays
#   procedure-one         SELECT stored_events_insert_one(…) with the event's values
#                         (what a one-event save sends since migration 00011)
#
# Usage: DATABASE_URL=postgres://… scripts/pgbench-save.sh [seconds per run, default 10]
#
# It migrates a new schema with cmd/migrate (the procedure), creates a
# second one holding the table of bench/raw_stored_events.sql (the raw
# inserts; BenchmarkAppend's raw baselines use the same table), runs each
# script once, prints one line per script with pgbench's tps, and drops
# both schemas. Needs pgbench and psql on PATH (or in
# /usr/lib/postgresql/*/bin).
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the server to measure}"
seconds=${1:-10}
for dir in /usr/lib/postgresql/*/bin; do PATH=$PATH:$dir; done
cd "$(dirname "$0")/.."

suffix=$$
lib=pgbench_save_lib_$suffix
raw=pgbench_save_raw_$suffix
work=$(mktemp -d)
cleanup() {
	PGOPTIONS='-c client_min_messages=warning' psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $lib CASCADE; DROP SCHEMA IF EXISTS $raw CASCADE" >/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go run ./cmd/migrate --schema "$lib" up >/dev/null
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "CREATE SCHEMA $raw" >/dev/null
PGOPTIONS="-c search_path=$raw" psql -q -v ON_ERROR_STOP=1 -f bench/raw_stored_events.sql "$DATABASE_URL" >/dev/null

# A state as wide as a small event's JSON.
state="convert_to('{\"timestamp\":\"2026-12-03T07:00:00.000000Z\",\"data\":{\"name\":\"an item of the benchmark\"}}', 'UTF8')"
insert="INSERT INTO $raw.stored_events (originator_id, originator_version, topic, state, event_id, correlation_id)
    VALUES (gen_random_uuid(), 1, 'bench:ItemCreated', $state, gen_random_uuid(), gen_random_uuid())"
# Each script is one line, its statements joined by \; so that pgbench
# sends them in one round trip, as the procedure's call is sent.
insert=${insert//$'\n'/ }
cat >"$work/locked-insert.sql" <<SQL
BEGIN \; LOCK TABLE $raw.stored_events IN EXCLUSIVE MODE \; $insert \; END;
SQL
cat >"$work/locked-insert-notify.sql" <<SQL
BEGIN \; LOCK TABLE $raw.stored_events IN EXCLUSIVE MODE \; $insert \; SELECT pg_notify('$raw', currval('$raw.stored_events_notification_id_seq')::text) \; END;
SQL
cat >"$work/procedure.sql" <<SQL
SELECT $lib.stored_events_insert(ARRAY[gen_random_uuid()], ARRAY[1::bigint], ARRAY['bench:ItemCreated'], ARRAY[$state], NULL, NULL, ARRAY[gen_random_uuid()], ARRAY[gen_random_uuid()], NULL, NULL, NULL);
SQL
cat >"$work/procedure-one.sql" <<SQL
SELECT $lib.stored_events_insert_one(gen_random_uuid(), 1::bigint, 'bench:ItemCreated', $state, NULL, NULL, gen_random_uuid(), gen_random_uuid(), NULL, NULL, NULL);
SQL

for script in locked-insert locked-insert-notify procedure procedure-one; do
	tps=$(pgbench -n -c 1 -T "$seconds" -f "$work/$script.sql" "$DATABASE_URL" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	printf '%-22s %s transactions/s\n' "$script" "$tps"
done
