-- Batched processing: a process application records the new events of a
-- whole page of upstream notifications, with one tracking record per
-- notification, in one transaction and one call.

-- +goose Up

-- stored_events_insert_tracked records a batch of events together with
-- the tracking records of the upstream notifications whose processing
-- produced them (tracking_application_names[i], tracking_notification_ids[i]),
-- in the caller's transaction, in one round trip, and returns the new
-- notification ids in the order of the arrays. It inserts the tracking
-- records and then records the events with stored_events_insert: the same
-- EXCLUSIVE lock on stored_events (ids commit in insert order), the same
-- notification at commit. A tracking
-- record recorded already, or repeated in the arrays, violates tracking_pkey
-- and a repeated (originator_id, originator_version) stored_events_pkey
-- (SQLSTATE 23505): either way nothing of the call is recorded. Like the
-- other insert procedures since 00003, it runs with its owner's rights,
-- with search_path pinned to the schema, and PUBLIC may not execute it.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_tracked(
    originator_ids             uuid[],
    originator_versions        bigint[],
    topics                     text[],
    states                     bytea[],
    tracking_application_names text[],
    tracking_notification_ids  bigint[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO tracking (application_name, notification_id)
    SELECT * FROM unnest(tracking_application_names, tracking_notification_ids);

    -- The events, under the lock, with the notification: as any save.
    RETURN stored_events_insert(originator_ids, originator_versions, topics, states, NULL, NULL);
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[]) '
                   'SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[]) FROM PUBLIC;

-- +goose Down
DROP FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[]);
