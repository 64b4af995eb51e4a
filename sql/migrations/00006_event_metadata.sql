-- Event metadata: each event's own id, the correlation and causation ids
-- that trace it through a system of applications, the trace context of the
-- save that recorded it, and, for applications that hash-chain their
-- events, its hash (docs/integrity.md). Snapshots get the hash that seals
-- them and the head hash of their aggregate at their version.
--
-- The columns are NULL for rows recorded before this migration (adding
-- them rewrites nothing) and wherever a save has nothing to record in
-- them: an application that does not chain its events records no hashes,
-- a save outside a trace no trace context.
--
-- The three insert procedures take the new columns as five more arrays,
-- in the order of the events; a NULL array (or a shorter one) records NULL
-- in the missing places, and so does the nil UUID (all zeros) as an id.
-- Their signatures change: the migration creates the new ones beside the
-- old ones, grants EXECUTE on each new one to the roles that may execute
-- the old one, and drops the old ones.

-- +goose Up
ALTER TABLE stored_events
    ADD COLUMN event_id       uuid  NULL,
    ADD COLUMN correlation_id uuid  NULL,
    ADD COLUMN causation_id   uuid  NULL,
    ADD COLUMN trace_context  bytea NULL,
    ADD COLUMN event_hash     bytea NULL;

ALTER TABLE snapshots
    ADD COLUMN head_hash  bytea NULL,
    ADD COLUMN event_hash bytea NULL;

-- stored_events_insert is 00001's procedure with the metadata arrays:
-- under the EXCLUSIVE lock, so that notification ids commit in insert
-- order; a repeated (originator_id, originator_version) or tracking record
-- raises 23505 and records nothing; the channel named after the schema is
-- notified at commit with the last id.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert(
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

-- stored_events_insert_batch is 00002's procedure (group commit) with the
-- metadata arrays; see 00002 for what it checks and returns.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_batch(
    originator_ids      uuid[],
    originator_versions bigint[],
    topics              text[],
    states              bytea[],
    save_numbers        int[],
    event_ids           uuid[],
    correlation_ids     uuid[],
    causation_ids       uuid[],
    trace_contexts      bytea[],
    event_hashes        bytea[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
SET enable_seqscan = off
AS $$
DECLARE
    failed    int[] := '{}';
    conflicts bigint[] := '{}';
    this_save int;
    dup_rows  bigint[];
    result    bigint[];
    last_id   bigint;
BEGIN
    IF coalesce(cardinality(originator_ids), 0) = 0 THEN
        RETURN '{}'::bigint[];
    END IF;

    LOCK TABLE stored_events IN EXCLUSIVE MODE;

    SELECT coalesce(array_agg(r.n), '{}'), coalesce(array_agg(DISTINCT r.save), '{}')
      INTO conflicts, failed
      FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
      JOIN stored_events e ON e.originator_id = r.id AND e.originator_version = r.version;

    IF EXISTS (
        SELECT 1 FROM unnest(originator_ids, originator_versions) AS r(id, version)
        GROUP BY r.id, r.version HAVING count(*) > 1
    ) THEN
        FOR this_save IN SELECT DISTINCT s FROM unnest(save_numbers) AS s ORDER BY s LOOP
            CONTINUE WHEN this_save = ANY(failed);
            SELECT array_agg(r.n) INTO dup_rows
              FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
              JOIN unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS q(id, version, save, n)
                ON q.id = r.id AND q.version = r.version AND q.n < r.n
             WHERE r.save = this_save
               AND (q.save = this_save OR NOT q.save = ANY(failed));
            IF dup_rows IS NOT NULL THEN
                failed := failed || this_save;
                conflicts := conflicts || dup_rows;
            END IF;
        END LOOP;
    END IF;

    WITH inserted AS (
            INSERT INTO stored_events (originator_id, originator_version, topic, state,
                                       event_id, correlation_id, causation_id, trace_context, event_hash)
            SELECT r.id, r.version, r.topic, r.state,
                   nullif(r.event_id, '00000000-0000-0000-0000-000000000000'), nullif(r.correlation_id, '00000000-0000-0000-0000-000000000000'),
                   nullif(r.causation_id, '00000000-0000-0000-0000-000000000000'),
                   r.trace_context, r.event_hash
              FROM unnest(originator_ids, originator_versions, topics, states, save_numbers,
                          event_ids, correlation_ids, causation_ids, trace_contexts, event_hashes)
                   WITH ORDINALITY AS r(id, version, topic, state, save,
                                        event_id, correlation_id, causation_id, trace_context, event_hash, n)
             WHERE NOT r.save = ANY(failed)
             ORDER BY r.n
            RETURNING stored_events.originator_id, stored_events.originator_version, stored_events.notification_id
        )
        SELECT array_agg(CASE WHEN i.notification_id IS NOT NULL THEN i.notification_id
                              WHEN r.n = ANY(conflicts) THEN -1
                              ELSE 0 END ORDER BY r.n),
               max(i.notification_id)
          INTO result, last_id
          FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
          LEFT JOIN inserted i
            ON NOT r.save = ANY(failed) AND i.originator_id = r.id AND i.originator_version = r.version;

    IF last_id IS NOT NULL THEN
        PERFORM pg_notify(current_schema(), last_id::text);
    END IF;
    RETURN result;
END;
$$;
-- +goose StatementEnd

-- stored_events_insert_tracked is 00005's procedure with the metadata
-- arrays.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_tracked(
    originator_ids             uuid[],
    originator_versions        bigint[],
    topics                     text[],
    states                     bytea[],
    tracking_application_names text[],
    tracking_notification_ids  bigint[],
    tracking_partitions        integer[],
    event_ids                  uuid[],
    correlation_ids            uuid[],
    causation_ids              uuid[],
    trace_contexts             bytea[],
    event_hashes               bytea[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO tracking (application_name, notification_id, partition)
    SELECT * FROM unnest(tracking_application_names, tracking_notification_ids, tracking_partitions);

    RETURN stored_events_insert(originator_ids, originator_versions, topics, states, NULL, NULL,
                                event_ids, correlation_ids, causation_ids, trace_contexts, event_hashes);
END;
$$;
-- +goose StatementEnd

-- As since 00003: search_path pinned to the schema, then pg_temp; EXECUTE
-- taken from PUBLIC and given to the roles that may execute the old
-- procedure each replaces, which is then dropped.
-- +goose StatementBegin
DO $$
DECLARE
    p record;
    grantee text;
BEGIN
    FOR p IN SELECT * FROM (VALUES
        ('stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint)',
         'stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[])'),
        ('stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[])',
         'stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[], uuid[], uuid[], uuid[], bytea[], bytea[])'),
        ('stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[])',
         'stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[])')
    ) AS v(old, new) LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', p.new, current_schema());
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.new);
        FOR grantee IN
            SELECT r.rolname
              FROM pg_proc f
             CROSS JOIN LATERAL aclexplode(f.proacl) a
              JOIN pg_roles r ON r.oid = a.grantee
             WHERE f.oid = p.old::regprocedure AND a.privilege_type = 'EXECUTE' AND a.grantee <> f.proowner
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', p.new, grantee);
        END LOOP;
        EXECUTE format('DROP FUNCTION %s', p.old);
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[], uuid[], uuid[], uuid[], bytea[], bytea[]);
DROP FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[], uuid[], uuid[], uuid[], bytea[], bytea[]);
DROP FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint, uuid[], uuid[], uuid[], bytea[], bytea[]);

-- 00001's, 00002's and 00005's procedures, as 00005 left them (grants on
-- them are not restored).
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
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_batch(
    originator_ids      uuid[],
    originator_versions bigint[],
    topics              text[],
    states              bytea[],
    save_numbers        int[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
SET enable_seqscan = off
AS $$
DECLARE
    failed    int[] := '{}';
    conflicts bigint[] := '{}';
    this_save int;
    dup_rows  bigint[];
    result    bigint[];
    last_id   bigint;
BEGIN
    IF coalesce(cardinality(originator_ids), 0) = 0 THEN
        RETURN '{}'::bigint[];
    END IF;

    LOCK TABLE stored_events IN EXCLUSIVE MODE;

    -- Rows whose key is recorded already.
    SELECT coalesce(array_agg(r.n), '{}'), coalesce(array_agg(DISTINCT r.save), '{}')
      INTO conflicts, failed
      FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
      JOIN stored_events e ON e.originator_id = r.id AND e.originator_version = r.version;

    -- Keys repeated within the batch: resolve in save order.
    IF EXISTS (
        SELECT 1 FROM unnest(originator_ids, originator_versions) AS r(id, version)
        GROUP BY r.id, r.version HAVING count(*) > 1
    ) THEN
        FOR this_save IN SELECT DISTINCT s FROM unnest(save_numbers) AS s ORDER BY s LOOP
            CONTINUE WHEN this_save = ANY(failed);
            SELECT array_agg(r.n) INTO dup_rows
              FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
              JOIN unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS q(id, version, save, n)
                ON q.id = r.id AND q.version = r.version AND q.n < r.n
             WHERE r.save = this_save
               AND (q.save = this_save OR NOT q.save = ANY(failed));
            IF dup_rows IS NOT NULL THEN
                failed := failed || this_save;
                conflicts := conflicts || dup_rows;
            END IF;
        END LOOP;
    END IF;

    WITH inserted AS (
            INSERT INTO stored_events (originator_id, originator_version, topic, state)
            SELECT r.id, r.version, r.topic, r.state
              FROM unnest(originator_ids, originator_versions, topics, states, save_numbers) WITH ORDINALITY AS r(id, version, topic, state, save, n)
             WHERE NOT r.save = ANY(failed)
             ORDER BY r.n
            RETURNING stored_events.originator_id, stored_events.originator_version, stored_events.notification_id
        )
        SELECT array_agg(CASE WHEN i.notification_id IS NOT NULL THEN i.notification_id
                              WHEN r.n = ANY(conflicts) THEN -1
                              ELSE 0 END ORDER BY r.n),
               max(i.notification_id)
          INTO result, last_id
          FROM unnest(originator_ids, originator_versions, save_numbers) WITH ORDINALITY AS r(id, version, save, n)
          LEFT JOIN inserted i
            ON NOT r.save = ANY(failed) AND i.originator_id = r.id AND i.originator_version = r.version;

    IF last_id IS NOT NULL THEN
        PERFORM pg_notify(current_schema(), last_id::text);
    END IF;
    RETURN result;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_tracked(
    originator_ids             uuid[],
    originator_versions        bigint[],
    topics                     text[],
    states                     bytea[],
    tracking_application_names text[],
    tracking_notification_ids  bigint[],
    tracking_partitions        integer[]
) RETURNS bigint[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO tracking (application_name, notification_id, partition)
    SELECT * FROM unnest(tracking_application_names, tracking_notification_ids, tracking_partitions);

    -- The events, under the lock, with the notification: as any save.
    RETURN stored_events_insert(originator_ids, originator_versions, topics, states, NULL, NULL);
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]) '
                   'SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]) FROM PUBLIC;
ALTER TABLE snapshots
    DROP COLUMN event_hash,
    DROP COLUMN head_hash;
ALTER TABLE stored_events
    DROP COLUMN event_hash,
    DROP COLUMN trace_context,
    DROP COLUMN causation_id,
    DROP COLUMN correlation_id,
    DROP COLUMN event_id;
