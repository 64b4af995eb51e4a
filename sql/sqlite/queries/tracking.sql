-- name: TrackingInsert :exec
-- Records one tracking record; a recorded (application_name,
-- notification_id) violates the primary key.
INSERT INTO tracking (application_name, notification_id, partition)
VALUES (sqlc.arg(application_name), sqlc.arg(notification_id), sqlc.arg(partition));

-- name: TrackingMaxID :one
-- Returns the largest tracked notification id of an upstream application,
-- or 0.
SELECT CAST(coalesce(max(notification_id), 0) AS INTEGER) AS max_id
FROM tracking WHERE application_name = sqlc.arg(application_name);

-- name: TrackingHas :one
-- Returns 1 if the notification of the upstream application is tracked, 0
-- if not.
SELECT CAST(EXISTS (SELECT 1 FROM tracking
                     WHERE application_name = sqlc.arg(application_name)
                       AND notification_id = sqlc.arg(notification_id)) AS INTEGER) AS tracked;

-- name: TrackingMaxByPartition :many
-- Returns the largest tracked notification id of each partition of an
-- upstream application that has tracking records.
SELECT partition, CAST(max(notification_id) AS INTEGER) AS max_id
FROM tracking WHERE application_name = sqlc.arg(application_name)
GROUP BY partition;
