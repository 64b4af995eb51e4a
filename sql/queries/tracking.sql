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
