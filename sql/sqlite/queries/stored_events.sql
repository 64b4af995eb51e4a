-- name: StoredEventsInsert :execlastid
-- Records one event; its notification id is the row id. A recorded
-- (originator_id, originator_version) violates stored_events_key.
INSERT INTO stored_events (originator_id, originator_version, topic, state,
                           event_id, correlation_id, causation_id, trace_context, event_hash)
VALUES (sqlc.arg(originator_id), sqlc.arg(originator_version), sqlc.arg(topic), sqlc.arg(state),
        sqlc.narg(event_id), sqlc.narg(correlation_id), sqlc.narg(causation_id),
        sqlc.narg(trace_context), sqlc.narg(event_hash));

-- name: StoredEventsSelect :many
-- Selects events of one aggregate in ascending version order; a NULL gt or
-- lte means no bound, a negative lim no limit. well_typed is 0 for a row
-- that a non-STRICT table let another client record with a wrong type.
SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE originator_id = sqlc.arg(originator_id)
  AND (CAST(sqlc.narg(gt) AS INTEGER) IS NULL OR originator_version > CAST(sqlc.narg(gt) AS INTEGER))
  AND (CAST(sqlc.narg(lte) AS INTEGER) IS NULL OR originator_version <= CAST(sqlc.narg(lte) AS INTEGER))
ORDER BY originator_version ASC
LIMIT sqlc.arg(lim);

-- name: StoredEventsSelectDesc :many
-- Like StoredEventsSelect, in descending version order.
SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE originator_id = sqlc.arg(originator_id)
  AND (CAST(sqlc.narg(gt) AS INTEGER) IS NULL OR originator_version > CAST(sqlc.narg(gt) AS INTEGER))
  AND (CAST(sqlc.narg(lte) AS INTEGER) IS NULL OR originator_version <= CAST(sqlc.narg(lte) AS INTEGER))
ORDER BY originator_version DESC
LIMIT sqlc.arg(lim);

-- name: NotificationsSelect :many
-- Selects notifications with ids from start, up to stop (inclusive) when
-- not NULL, with one of topics (a JSON array of strings) when not NULL, in
-- id order.
SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE notification_id >= sqlc.arg(start)
  AND (CAST(sqlc.narg(stop) AS INTEGER) IS NULL OR notification_id <= CAST(sqlc.narg(stop) AS INTEGER))
  AND (CAST(sqlc.narg(topics) AS TEXT) IS NULL
       OR topic IN (SELECT value FROM json_each(CAST(sqlc.narg(topics) AS TEXT))))
ORDER BY notification_id ASC
LIMIT sqlc.arg(lim);

-- name: NotificationsSelectCorrelated :many
-- Like NotificationsSelect, of the notifications with the correlation id:
-- a query of its own, whose condition on correlation_id is plain, so that
-- SQLite reads them in id order from stored_events_correlation_idx
-- (migration 00004) instead of filtering the log from start.
SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash,
       CAST(typeof(originator_id) = 'text' AND typeof(originator_version) = 'integer'
            AND typeof(topic) = 'text' AND typeof(state) = 'blob'
            AND typeof(event_id) IN ('text', 'null') AND typeof(correlation_id) IN ('text', 'null')
            AND typeof(causation_id) IN ('text', 'null') AND typeof(trace_context) IN ('blob', 'null')
            AND typeof(event_hash) IN ('blob', 'null') AS INTEGER) AS well_typed
FROM stored_events
WHERE correlation_id = sqlc.arg(correlation_id)
  AND notification_id >= sqlc.arg(start)
  AND (CAST(sqlc.narg(stop) AS INTEGER) IS NULL OR notification_id <= CAST(sqlc.narg(stop) AS INTEGER))
  AND (CAST(sqlc.narg(topics) AS TEXT) IS NULL
       OR topic IN (SELECT value FROM json_each(CAST(sqlc.narg(topics) AS TEXT))))
ORDER BY notification_id ASC
LIMIT sqlc.arg(lim);

-- name: NotificationsMaxID :one
-- Returns the largest notification id, or 0 when there is none.
SELECT CAST(coalesce(max(notification_id), 0) AS INTEGER) AS max_id FROM stored_events;
