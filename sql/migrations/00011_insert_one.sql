-- A save of one event, the most common save of all, through a procedure
-- that takes the event's columns as values rather than as arrays of one
-- element: the arrays were the larger part of what a one-event save cost
-- beyond a plain locked insert (their encoding by the client, their
-- decoding and subscripting by the server: about 30 µs a save,
-- docs/benchmarks.md). It does what stored_events_insert does for one
-- event: the optional tracking record (partition 0), the EXCLUSIVE lock,
-- the insert, the notify of the new id, all in the caller's one statement;
-- a NULL id is recorded as NULL.
--
-- As the other insert procedures (00003, 00006): SECURITY DEFINER with
-- search_path pinned to the schema, then pg_temp; EXECUTE taken from
-- PUBLIC and given to every role that may execute stored_events_insert,
-- so that a role that records keeps recording without a new grant.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_one(
    p_originator_id             uuid,
    p_originator_version        bigint,
    p_topic                     text,
    p_state                     bytea,
    p_tracking_application_name text,
    p_tracking_notification_id  bigint,
    p_event_id                  uuid,
    p_correlation_id            uuid,
    p_causation_id              uuid,
    p_trace_context             bytea,
    p_event_hash                bytea
) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    id bigint;
BEGIN
    IF p_tracking_application_name IS NOT NULL THEN
        INSERT INTO tracking (application_name, notification_id)
        VALUES (p_tracking_application_name, p_tracking_notification_id);
    END IF;

    LOCK TABLE stored_events IN EXCLUSIVE MODE;

    INSERT INTO stored_events (originator_id, originator_version, topic, state,
                               event_id, correlation_id, causation_id, trace_context, event_hash)
    VALUES (p_originator_id, p_originator_version, p_topic, p_state,
            p_event_id, p_correlation_id, p_causation_id, p_trace_context, p_event_hash)
    RETURNING notification_id INTO id;

    PERFORM pg_notify(current_schema(), id::text);
    RETURN id;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    one     constant text := 'stored_events_insert_one(uuid, bigint, text, bytea, text, bigint, uuid, uuid, uuid, bytea, bytea)';
    grantee text;
BEGIN
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', one, current_schema());
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', one);
    FOR grantee IN
        SELECT r.rolname
          FROM pg_proc f
         CROSS JOIN LATERAL aclexplode(f.proacl) a
          JOIN pg_roles r ON r.oid = a.grantee
         WHERE f.oid = 'stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])'::regprocedure
           AND a.privilege_type = 'EXECUTE' AND a.grantee <> f.proowner
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', one, grantee);
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION stored_events_insert_one(uuid, bigint, text, bytea, text, bigint, uuid, uuid, uuid, bytea, bytea);
