-- Partitions: several instances of one process application divide their
-- upstream logs in partitions (persistence.PartitionRecorder). Each
-- instance leases some partitions and processes only their notifications;
-- the leases, the partition count and the partitions' positions are kept
-- here, so that every instance agrees on them. Lease times run on the
-- database's clock.

-- +goose Up

-- The partition each tracked notification is in (0 when the log is not
-- divided). The primary key stays (application_name, notification_id): a
-- notification is tracked once, in whatever partition. The index makes the
-- largest tracked id of one partition an index-only backward scan.
ALTER TABLE tracking ADD COLUMN partition integer NOT NULL DEFAULT 0;
CREATE INDEX tracking_partition_idx ON tracking (application_name, partition, notification_id);

-- One row per partition from the first claim on; every row holds the
-- partition count. owner is the instance holding the lease (NULL: free),
-- until expires_at.
CREATE TABLE partition_leases (
    partition  integer     NOT NULL,
    partitions integer     NOT NULL,
    owner      uuid        NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT partition_leases_pkey PRIMARY KEY (partition)
);

-- The live instances, each until it expires: the fair share of each is
-- the partition count divided by their number, rounded up.
CREATE TABLE follower_instances (
    instance   uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT follower_instances_pkey PRIMARY KEY (instance)
);

-- The notification id up to which a partition of an upstream application
-- is processed, beyond its largest tracked id: recorded by the first claim
-- (for the tracking recorded before the log was divided) and by
-- partition_positions_advance.
CREATE TABLE partition_positions (
    application_name text    NOT NULL,
    partition        integer NOT NULL,
    position         bigint  NOT NULL,
    CONSTRAINT partition_positions_pkey PRIMARY KEY (application_name, partition)
);

-- partition_leases_claim registers instance_id as live until lease from
-- now and renews its leases by as much; then it gives up the partitions it
-- holds beyond its fair share (the highest first) and claims free or
-- expired ones (the lowest first) up to it. It returns the partitions the
-- instance holds, ascending. Claims (and releases) take turns on an
-- EXCLUSIVE lock on partition_leases; readers are not blocked.
--
-- The first claim records partition_count (one row per partition) and,
-- for each upstream application tracked, the largest tracked id as the
-- position of every partition. A claim with another count raises SQLSTATE
-- ZE001 (class ZE, this library's own: the SQL standard leaves classes
-- beginning with I to Z to implementations, and PostgreSQL uses none of
-- ZE), with DETAIL 'recorded R, requested N', and changes nothing. A count
-- below 1 or a lease not above zero raises 22023 (invalid_parameter_value).
-- +goose StatementBegin
CREATE FUNCTION partition_leases_claim(
    instance_id     uuid,
    partition_count integer,
    lease           interval
) RETURNS integer[]
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    recorded   integer;
    now_at     timestamptz;
    until      timestamptz;
    live       integer;
    fair_share integer;
    kept       integer;
    held       integer[];
BEGIN
    IF partition_count IS NULL OR partition_count < 1 OR lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'claim partitions: % partitions, lease %', partition_count, lease
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    LOCK TABLE partition_leases IN EXCLUSIVE MODE;

    SELECT max(l.partitions) INTO recorded FROM partition_leases l;
    IF recorded IS NULL THEN
        INSERT INTO partition_leases (partition, partitions, owner, expires_at)
        SELECT p, partition_count, NULL, '-infinity' FROM generate_series(0, partition_count - 1) AS p;
        -- A follower that did not divide its logs tracked without gaps.
        INSERT INTO partition_positions (application_name, partition, position)
        SELECT t.application_name, p, t.max_id
          FROM (SELECT application_name, max(notification_id) AS max_id FROM tracking GROUP BY application_name) AS t
         CROSS JOIN generate_series(0, partition_count - 1) AS p
        ON CONFLICT ON CONSTRAINT partition_positions_pkey
        DO UPDATE SET position = greatest(partition_positions.position, excluded.position);
    ELSIF recorded <> partition_count THEN
        RAISE EXCEPTION 'the follower divides its upstream logs in % partitions, not %', recorded, partition_count
            USING ERRCODE = 'ZE001', DETAIL = format('recorded %s, requested %s', recorded, partition_count);
    END IF;

    -- The lock may have been waited for: read the clock now.
    now_at := clock_timestamp();
    until := now_at + lease;
    INSERT INTO follower_instances (instance, expires_at) VALUES (instance_id, until)
    ON CONFLICT ON CONSTRAINT follower_instances_pkey DO UPDATE SET expires_at = excluded.expires_at;
    DELETE FROM follower_instances WHERE expires_at < now_at;
    SELECT count(*) INTO live FROM follower_instances;
    fair_share := (partition_count + live - 1) / live;

    -- Renew the first fair_share of the instance's leases, give up the rest.
    WITH own AS (
        SELECT l.partition, row_number() OVER (ORDER BY l.partition) AS n
          FROM partition_leases l WHERE l.owner = instance_id
    )
    UPDATE partition_leases l
       SET owner = CASE WHEN own.n <= fair_share THEN instance_id END,
           expires_at = CASE WHEN own.n <= fair_share THEN until ELSE l.expires_at END
      FROM own
     WHERE l.partition = own.partition;
    SELECT count(*) INTO kept FROM partition_leases l WHERE l.owner = instance_id;

    UPDATE partition_leases l
       SET owner = instance_id, expires_at = until
     WHERE l.partition IN (
        SELECT f.partition FROM partition_leases f
         WHERE f.owner IS NULL OR f.expires_at < now_at
         ORDER BY f.partition
         LIMIT fair_share - kept
     );

    SELECT coalesce(array_agg(l.partition ORDER BY l.partition), '{}') INTO held
      FROM partition_leases l WHERE l.owner = instance_id;
    RETURN held;
END;
$$;
-- +goose StatementEnd

-- partition_leases_release gives up the leases and the registration of
-- instance_id, so that other instances may claim its partitions at once.
-- +goose StatementBegin
CREATE FUNCTION partition_leases_release(instance_id uuid) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    LOCK TABLE partition_leases IN EXCLUSIVE MODE;
    DELETE FROM follower_instances WHERE instance = instance_id;
    UPDATE partition_leases SET owner = NULL WHERE owner = instance_id;
END;
$$;
-- +goose StatementEnd

-- partition_positions_advance records that every notification of the
-- upstream application up to new_position is processed in each of
-- partition_numbers; a position below the one recorded leaves it as it is.
-- +goose StatementBegin
CREATE FUNCTION partition_positions_advance(
    upstream          text,
    partition_numbers integer[],
    new_position      bigint
) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    INSERT INTO partition_positions (application_name, partition, position)
    SELECT DISTINCT upstream, p, new_position FROM unnest(partition_numbers) AS p
    ON CONFLICT ON CONSTRAINT partition_positions_pkey
    DO UPDATE SET position = greatest(partition_positions.position, excluded.position);
END;
$$;
-- +goose StatementEnd

-- stored_events_insert_tracked is 00004's procedure, with the partition of
-- each tracking record (tracking_partitions[i]; 0 when the log is not
-- divided). Everything else is as in 00004.
DROP FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[]);
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

-- As for the insert procedures (00003): search_path pinned to the schema,
-- then pg_temp; EXECUTE taken from PUBLIC, to be granted to the roles that
-- record (docs/security.md).
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION partition_leases_claim(uuid, integer, interval) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION partition_leases_release(uuid) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION partition_positions_advance(text, integer[], bigint) '
                   'SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION partition_leases_claim(uuid, integer, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION partition_leases_release(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION partition_positions_advance(text, integer[], bigint) FROM PUBLIC;

-- +goose Down
DROP FUNCTION stored_events_insert_tracked(uuid[], bigint[], text[], bytea[], text[], bigint[], integer[]);
-- 00004's procedure, as 00004 made it.
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
DROP FUNCTION partition_positions_advance(text, integer[], bigint);
DROP FUNCTION partition_leases_release(uuid);
DROP FUNCTION partition_leases_claim(uuid, integer, interval);
DROP TABLE partition_positions;
DROP TABLE follower_instances;
DROP TABLE partition_leases;
DROP INDEX tracking_partition_idx;
ALTER TABLE tracking DROP COLUMN partition;
