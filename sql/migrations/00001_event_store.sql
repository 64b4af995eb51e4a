-- The event store of one application. Goose applies this migration with
-- search_path set to the application's schema, so every object below lives
-- in that schema and each application has its own notification sequence and
-- its own lock.

-- +goose Up

-- Aggregate events, each in its aggregate sequence (originator_id,
-- originator_version) and in the application sequence (notification_id).
CREATE TABLE stored_events (
    originator_id      uuid      NOT NULL,
    originator_version bigint    NOT NULL,
    topic              text      NOT NULL,
    state              bytea     NOT NULL,
    notification_id    bigserial NOT NULL,
    CONSTRAINT stored_events_pkey PRIMARY KEY (originator_id, originator_version)
);

CREATE UNIQUE INDEX stored_events_notification_id_idx ON stored_events (notification_id);

-- Snapshots of aggregates: apart from the events, so that a snapshot never
-- occupies an event's position (requirement 4).
CREATE TABLE snapshots (
    originator_id      uuid   NOT NULL,
    originator_version bigint NOT NULL,
    topic              text   NOT NULL,
    state              bytea  NOT NULL,
    CONSTRAINT snapshots_pkey PRIMARY KEY (originator_id, originator_version)
);

-- Upstream notifications this application has processed (requirement 9).
CREATE TABLE tracking (
    application_name text   NOT NULL,
    notification_id  bigint NOT NULL,
    CONSTRAINT tracking_pkey PRIMARY KEY (application_name, notification_id)
);

-- stored_events_insert records a batch of events, and optionally the
-- tracking record of the upstream notification whose processing produced
-- them, in the caller's transaction, in one round trip. It returns the new
-- notification ids in the order of the arrays.
--
-- It first takes an EXCLUSIVE lock on stored_events, held until the
-- transaction ends, so that notification ids are assigned and committed in
-- the same order (requirement 11): a reader that has seen id n never later
-- sees a new id below n. Readers (ACCESS SHARE) are not blocked. Honour
-- lock_timeout, if the session sets it.
--
-- A repeated (originator_id, originator_version) violates stored_events_pkey
-- and a repeated tracking record violates tracking_pkey (SQLSTATE 23505);
-- either way nothing of the call is recorded. Listeners of the channel named
-- after the schema are notified at commit with the last notification id.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert(
    originator_ids               uuid[],
    originator_versions          bigint[],
    topics                       text[],
    states                       bytea[],
    tracking_application_name    text,
    tracking_notification_id     bigint
) RETURNS bigint[]
LANGUAGE plpgsql
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
        INSERT INTO stored_events (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(originator_ids, originator_versions, topics, states)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM inserted;

    PERFORM pg_notify(current_schema(), ids[cardinality(ids)]::text);
    RETURN ids;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint);
DROP TABLE tracking;
DROP TABLE snapshots;
DROP TABLE stored_events;
