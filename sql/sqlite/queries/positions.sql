-- name: TrackedApplications :many
-- Returns the names of the upstream applications tracked: those with
-- tracking records or partition positions, ascending.
SELECT application_name FROM tracking
UNION
SELECT application_name FROM partition_positions
ORDER BY application_name;
