-- name: TrackingMaxID :one
-- Returns the largest tracked notification id of an upstream application,
-- or 0 when none is tracked.
SELECT coalesce(max(notification_id), 0)::bigint AS max_id
FROM tracking
WHERE application_name = @application_name;

-- name: TrackingHas :one
-- Reports whether a notification of an upstream application is tracked.
SELECT EXISTS (
    SELECT 1 FROM tracking
    WHERE application_name = @application_name AND notification_id = @notification_id
) AS tracked;

-- name: TrackingPositions :many
-- Returns, for each upstream application tracked, the notification id up
-- to which every notification is processed: the largest tracked id, or,
-- once the follower divides its logs in partitions (partition_leases has
-- rows), the lowest of the partitions' positions.
SELECT u.application_name::text AS application_name, coalesce(CASE
    WHEN d.partitions IS NULL THEN
        (SELECT max(t.notification_id) FROM tracking AS t WHERE t.application_name = u.application_name)
    ELSE
        (SELECT min(greatest(
            (SELECT max(t.notification_id) FROM tracking AS t
              WHERE t.application_name = u.application_name AND t.partition = p.n),
            (SELECT pp.position FROM partition_positions AS pp
              WHERE pp.application_name = u.application_name AND pp.partition = p.n),
            0))
           FROM generate_series(0, d.partitions - 1) AS p(n))
    END, 0)::bigint AS max_id
FROM (SELECT application_name FROM tracking UNION SELECT application_name FROM partition_positions) AS u
CROSS JOIN (SELECT max(partitions) AS partitions FROM partition_leases) AS d
ORDER BY u.application_name;

-- name: TrackingMaxIDs :many
-- Returns the largest tracked id of each upstream application tracked: its
-- position when the follower does not divide its logs. Unlike
-- TrackingPositions, it reads no table of migration 00005.
SELECT application_name::text AS application_name, max(notification_id)::bigint AS max_id
FROM tracking
GROUP BY application_name
ORDER BY application_name;

-- name: EventStoreSchemas :many
-- Returns the schemas of the database that hold an event store with
-- tracking records (stored_events and tracking tables) visible to the
-- current role.
SELECT t.table_schema::text AS schema_name
FROM information_schema.tables AS t
WHERE t.table_name = 'tracking'
  AND EXISTS (
      SELECT 1 FROM information_schema.tables AS e
      WHERE e.table_schema = t.table_schema AND e.table_name = 'stored_events'
  )
ORDER BY 1;
