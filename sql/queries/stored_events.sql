-- name: StoredEventsInsert :one
-- Records events (and the optional tracking record) through the insert
-- procedure; returns their notification ids in argument order.
SELECT stored_events_insert(
    @originator_ids::uuid[],
    @originator_versions::bigint[],
    @topics::text[],
    @states::bytea[],
    sqlc.narg(tracking_application_name)::text,
    sqlc.narg(tracking_notification_id)::bigint,
    @event_ids::uuid[],
    @correlation_ids::uuid[],
    @causation_ids::uuid[],
    @trace_contexts::bytea[],
    @event_hashes::bytea[]
)::bigint[] AS notification_ids;

-- name: StoredEventsInsertOne :one
-- Records one event (and the optional tracking record) through the
-- one-event insert procedure; returns its notification id.
SELECT stored_events_insert_one(
    @originator_id::uuid,
    @originator_version::bigint,
    @topic::text,
    @state::bytea,
    sqlc.narg(tracking_application_name)::text,
    sqlc.narg(tracking_notification_id)::bigint,
    sqlc.narg(event_id)::uuid,
    sqlc.narg(correlation_id)::uuid,
    sqlc.narg(causation_id)::uuid,
    sqlc.narg(trace_context)::bytea,
    sqlc.narg(event_hash)::bytea
)::bigint AS notification_id;

-- name: StoredEventsInsertTracked :one
-- Records events with the tracking records of a page of upstream
-- notifications, each in its partition, through the page's insert
-- procedure; returns their notification ids in argument order.
SELECT stored_events_insert_tracked(
    @originator_ids::uuid[],
    @originator_versions::bigint[],
    @topics::text[],
    @states::bytea[],
    @tracking_application_names::text[],
    @tracking_notification_ids::bigint[],
    @tracking_partitions::integer[],
    @event_ids::uuid[],
    @correlation_ids::uuid[],
    @causation_ids::uuid[],
    @trace_contexts::bytea[],
    @event_hashes::bytea[]
)::bigint[] AS notification_ids;

-- name: StoredEventsSelect :many
-- Selects events of one aggregate in ascending version order; a NULL gt,
-- lte or lim means no bound. The bounds are always range conditions (NULL
-- stands for the end of bigint), so that a generic plan of the prepared
-- statement still searches the primary key by version instead of
-- filtering every event of the aggregate.
SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE originator_id = @originator_id
  AND originator_version > coalesce(sqlc.narg(gt)::bigint, '-9223372036854775808'::bigint)
  AND originator_version <= coalesce(sqlc.narg(lte)::bigint, '9223372036854775807'::bigint)
ORDER BY originator_version ASC
LIMIT sqlc.narg(lim)::bigint;

-- name: StoredEventsSelectDesc :many
-- Like StoredEventsSelect, in descending version order.
SELECT originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE originator_id = @originator_id
  AND originator_version > coalesce(sqlc.narg(gt)::bigint, '-9223372036854775808'::bigint)
  AND originator_version <= coalesce(sqlc.narg(lte)::bigint, '9223372036854775807'::bigint)
ORDER BY originator_version DESC
LIMIT sqlc.narg(lim)::bigint;

-- name: NotificationsSelect :many
-- Selects notifications with ids from start, up to stop (inclusive) when
-- given, with one of topics when topics is not empty, in id order.
SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE notification_id >= @start
  AND notification_id <= coalesce(sqlc.narg(stop)::bigint, '9223372036854775807'::bigint)
  AND (cardinality(@topics::text[]) = 0 OR topic = ANY(@topics::text[]))
ORDER BY notification_id ASC
LIMIT @lim;

-- name: NotificationsSelectCorrelated :many
-- Like NotificationsSelect, of the notifications with the correlation id:
-- a query of its own, whose condition on correlation_id is plain, so that
-- even a generic plan of the prepared statement reads them in id order
-- from stored_events_correlation_idx (migration 00010) instead of
-- filtering the log from start.
SELECT notification_id, originator_id, originator_version, topic, state,
       event_id, correlation_id, causation_id, trace_context, event_hash
FROM stored_events
WHERE correlation_id = @correlation_id
  AND notification_id >= @start
  AND notification_id <= coalesce(sqlc.narg(stop)::bigint, '9223372036854775807'::bigint)
  AND (cardinality(@topics::text[]) = 0 OR topic = ANY(@topics::text[]))
ORDER BY notification_id ASC
LIMIT @lim;

-- name: NotificationsMaxID :one
-- Returns the largest notification id, or 0 when there is none.
SELECT coalesce(max(notification_id), 0)::bigint AS max_id FROM stored_events;

-- name: StoredEventsInsertBatch :one
-- Records the events of several saves in one call (group commit); see the
-- procedure. Returns, per row in argument order, the new notification id,
-- 0 for rows of saves that failed, or -1 for the rows that conflicted.
SELECT stored_events_insert_batch(
    @originator_ids::uuid[],
    @originator_versions::bigint[],
    @topics::text[],
    @states::bytea[],
    @save_numbers::int[],
    @event_ids::uuid[],
    @correlation_ids::uuid[],
    @causation_ids::uuid[],
    @trace_contexts::bytea[],
    @event_hashes::bytea[]
)::bigint[] AS results;

-- name: EventStoreReady :one
-- Reports whether the schema on the search path holds the event store at
-- its latest migration (the newest procedures exist).
SELECT (to_regprocedure('stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[])') IS NOT NULL
        AND to_regprocedure('stored_events_insert_one(uuid, bigint, text, bytea, text, bigint, uuid, uuid, uuid, bytea, bytea)') IS NOT NULL)::boolean AS ready;
