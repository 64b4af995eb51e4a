-- name: SearchPathSetLocal :one
-- Sets search_path for the rest of the current transaction (set_config
-- with is_local) and returns the value it had before, for
-- SearchPathRestoreLocal. The subquery is evaluated first.
SELECT p.previous::text AS previous, set_config('search_path', @search_path::text, true)::text AS current
FROM (SELECT current_setting('search_path') AS previous OFFSET 0) AS p;

-- name: SearchPathRestoreLocal :exec
-- Sets search_path back to a value returned by SearchPathSetLocal, for the
-- rest of the current transaction.
SELECT set_config('search_path', @search_path::text, true);

-- name: AdvisoryLock :exec
-- Waits for and takes the session-level advisory lock key, held until
-- the session ends (or it is unlocked).
SELECT pg_advisory_lock(@key::bigint);
