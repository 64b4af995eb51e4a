-- name: StoredEventsVerify :many
-- Returns the problems of one aggregate's hash-chained events and
-- snapshots (see stored_events_verify in migration 00007).
SELECT v.version::bigint AS version, v.is_snapshot::boolean AS is_snapshot, v.problem::text AS problem
FROM stored_events_verify(@salt::bytea, @originator_id::uuid) AS v;

-- name: StoredEventsVerifyPage :many
-- Verifies the aggregates after an id, up to a number of them, and
-- returns what it checked of each (see stored_events_verify_page in
-- migration 00007).
SELECT p.originator_id::uuid AS originator_id, p.events::bigint AS events,
       p.unhashed_events::bigint AS unhashed_events, p.snapshots::bigint AS snapshots,
       p.unsealed_snapshots::bigint AS unsealed_snapshots, p.problems::bigint AS problems
FROM stored_events_verify_page(@salt::bytea, sqlc.narg(after)::uuid, @max_aggregates::integer) AS p;
