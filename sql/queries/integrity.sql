-- name: StoredEventsVerify :many
-- Returns the problems of one aggregate's hash-chained events and
-- snapshots, strictly or not (see stored_events_verify in migrations
-- 00007 and 00009).
SELECT v.version::bigint AS version, v.is_snapshot::boolean AS is_snapshot, v.problem::text AS problem
FROM stored_events_verify(@salt::bytea, @originator_id::uuid, @strict::boolean) AS v;

-- name: StoredEventsVerifyPage :many
-- Verifies the aggregates after an id, up to a number of them, and
-- returns what it checked of each, strictly or not (see
-- stored_events_verify_page in migrations 00007 and 00009).
SELECT p.originator_id::uuid AS originator_id, p.events::bigint AS events,
       p.unhashed_events::bigint AS unhashed_events, p.snapshots::bigint AS snapshots,
       p.unsealed_snapshots::bigint AS unsealed_snapshots, p.problems::bigint AS problems
FROM stored_events_verify_page(@salt::bytea, sqlc.narg(after)::uuid, @max_aggregates::integer, @strict::boolean) AS p;
