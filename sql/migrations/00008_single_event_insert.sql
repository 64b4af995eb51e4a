-- A save of one event (most saves) is recorded without unnest: the insert
-- procedure of 00006 takes its values straight from the arrays when every
-- array holds one element (as unnest would read it), and keeps its
-- general path for any other call. Measured inside the server (a loop of
-- 20,000 calls, fsync off): about 52 µs of the procedure's body per
-- one-event call before, 25–30 µs after (docs/benchmarks.md, issue 17).
-- The guarantees are the same: the EXCLUSIVE lock first, the unique
-- (originator_id, originator_version), the tracking record in the same
-- transaction, the notification at commit with the new id.
--
-- CREATE OR REPLACE keeps the procedure's owner and the roles that may
-- execute it; its search_path is pinned again to the schema, then
-- pg_temp, as since 00003.

-- +goose Up
-- stored_events_single reports whether a is a one-dimensional array of one
-- element at index 1: the one shape whose a[1] is what unnest reads.
-- +goose StatementBegin
CREATE FUNCTION stored_events_single(a anyarray) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT array_ndims(a) = 1 AND array_lower(a, 1) = 1 AND array_upper(a, 1) = 1 $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stored_events_insert(
    originator_ids            uuid[],
    originator_versions       bigint[],
    topics                    text[],
    states                    bytea[],
    tracking_application_name text,
    tracking_notification_id  bigint,
    event_ids                 uuid[],
    correlation_ids           uuid[],
    causation_ids             uuid[],
    trace_contexts            bytea[],
    event_hashes              bytea[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    ids bigint[];
    id  bigint;
BEGIN
    IF tracking_application_name IS NOT NULL THEN
        INSERT INTO tracking (application_name, notification_id)
        VALUES (tracking_application_name, tracking_notification_id);
    END IF;

    IF coalesce(cardinality(originator_ids), 0) = 0 THEN
        RETURN '{}'::bigint[];
    END IF;

    LOCK TABLE stored_events IN EXCLUSIVE MODE;

    -- One event (most saves): its values straight from the arrays, without
    -- unnest, the CTE and array_agg. Only arrays that unnest would read the
    -- same way take this path: one-dimensional, one element at index 1
    -- (a metadata array may be NULL).
    IF stored_events_single(originator_ids) AND stored_events_single(originator_versions)
       AND stored_events_single(topics) AND stored_events_single(states)
       AND (event_ids IS NULL OR stored_events_single(event_ids))
       AND (correlation_ids IS NULL OR stored_events_single(correlation_ids))
       AND (causation_ids IS NULL OR stored_events_single(causation_ids))
       AND (trace_contexts IS NULL OR stored_events_single(trace_contexts))
       AND (event_hashes IS NULL OR stored_events_single(event_hashes)) THEN
        INSERT INTO stored_events (originator_id, originator_version, topic, state,
                                   event_id, correlation_id, causation_id, trace_context, event_hash)
        VALUES (originator_ids[1], originator_versions[1], topics[1], states[1],
                nullif(event_ids[1], '00000000-0000-0000-0000-000000000000'),
                nullif(correlation_ids[1], '00000000-0000-0000-0000-000000000000'),
                nullif(causation_ids[1], '00000000-0000-0000-0000-000000000000'),
                trace_contexts[1], event_hashes[1])
        RETURNING notification_id INTO id;
        PERFORM pg_notify(current_schema(), id::text);
        RETURN ARRAY[id];
    END IF;

    WITH inserted AS (
        INSERT INTO stored_events (originator_id, originator_version, topic, state,
                                   event_id, correlation_id, causation_id, trace_context, event_hash)
        SELECT r.id, r.version, r.topic, r.state,
               nullif(r.event_id, '00000000-0000-0000-0000-000000000000'), nullif(r.correlation_id, '00000000-0000-0000-0000-000000000000'),
               nullif(r.causation_id, '00000000-0000-0000-0000-000000000000'),
               r.trace_context, r.event_hash
          FROM unnest(originator_ids, originator_versions, topics, states,
                      event_ids, correlation_ids, causation_ids, trace_contexts, event_hashes)
               AS r(id, version, topic, state, event_id, correlation_id, causation_id, trace_context, event_hash)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM inserted;

    PERFORM pg_notify(current_schema(), ids[cardinality(ids)]::text);
    RETURN ids;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', 'stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])', current_schema());
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stored_events_insert(
    originator_ids            uuid[],
    originator_versions       bigint[],
    topics                    text[],
    states                    bytea[],
    tracking_application_name text,
    tracking_notification_id  bigint,
    event_ids                 uuid[],
    correlation_ids           uuid[],
    causation_ids             uuid[],
    trace_contexts            bytea[],
    event_hashes              bytea[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    ids bigint[];
BEGIN
    IF tracking_application_name IS NOT NULL THEN
        INSERT INTO tracking (application_name, notification_id)
        VALUES (tracking_application_name, tracking_notification_id);
    END IF;

    IF coalesce(cardinality(originator_ids), 0) = 0 THEN
        RETURN '{}'::bigint[];
    END IF;

    LOCK TABLE stored_events IN EXCLUSIVE MODE;

    WITH inserted AS (
        INSERT INTO stored_events (originator_id, originator_version, topic, state,
                                   event_id, correlation_id, causation_id, trace_context, event_hash)
        SELECT r.id, r.version, r.topic, r.state,
               nullif(r.event_id, '00000000-0000-0000-0000-000000000000'), nullif(r.correlation_id, '00000000-0000-0000-0000-000000000000'),
               nullif(r.causation_id, '00000000-0000-0000-0000-000000000000'),
               r.trace_context, r.event_hash
          FROM unnest(originator_ids, originator_versions, topics, states,
                      event_ids, correlation_ids, causation_ids, trace_contexts, event_hashes)
               AS r(id, version, topic, state, event_id, correlation_id, causation_id, trace_context, event_hash)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM inserted;

    PERFORM pg_notify(current_schema(), ids[cardinality(ids)]::text);
    RETURN ids;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', 'stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])', current_schema());
END;
$$;
-- +goose StatementEnd

DROP FUNCTION stored_events_single(anyarray);
