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
-- Returns, for each upstream application tracked, the largest tracked
-- notification id.
SELECT application_name, max(notification_id)::bigint AS max_id
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
