-- Integrity: functions that verify hash-chained events (docs/integrity.md)
-- in the database, without any Go code and without the cipher key: an
-- HMAC-SHA256 (sha256() is built in since PostgreSQL 11), the event hash
-- of each scheme, the verification of one aggregate's events and
-- snapshots, and of a whole application page by page.
--
-- A hash is one byte naming the scheme, then HMAC-SHA256(salt, message).
-- The message of scheme 1 is, big-endian: originator_id (16 bytes),
-- originator_version (8), the length of the topic's UTF-8 bytes (4) and
-- those bytes, the length of state (4) and state (as stored: compressed
-- and encrypted), the length of the previous hash (4) and that hash (the
-- stored hash of the aggregate's previous event; empty for its first
-- hashed event). Scheme 2 appends event_id, correlation_id and
-- causation_id (16 bytes each, zeros for NULL). A snapshot is sealed with
-- the scheme 1 hash of its own columns, its head_hash as previous hash.
--
-- The functions only read: SECURITY INVOKER (the caller needs SELECT on
-- the tables), search_path pinned to the schema, then pg_temp.

-- +goose Up

-- integrity_hmac_pads returns the inner and outer padded keys of the
-- HMAC-SHA256 keyed by salt (NULL is the empty key): computed once, for
-- the hashes of many events.
-- +goose StatementBegin
CREATE FUNCTION integrity_hmac_pads(salt bytea, OUT ipad bytea, OUT opad bytea)
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
DECLARE
    k bytea := coalesce(salt, ''::bytea);
BEGIN
    IF octet_length(k) > 64 THEN
        k := sha256(k);
    END IF;
    k := k || decode(repeat('00', 64 - octet_length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);  -- 0x5c
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- integrity_event_hash returns the hash of scheme (1 or 2; NULL for
-- another) of an event (or, with scheme 1 and its head hash as previous,
-- of a snapshot), keyed by the pads of integrity_hmac_pads.
-- +goose StatementBegin
CREATE FUNCTION integrity_event_hash(
    ipad               bytea,
    opad               bytea,
    scheme             integer,
    originator_id      uuid,
    originator_version bigint,
    topic              text,
    state              bytea,
    previous           bytea,
    event_id           uuid,
    correlation_id     uuid,
    causation_id       uuid
) RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
DECLARE
    t       bytea := convert_to(topic, 'UTF8');
    p       bytea := coalesce(previous, ''::bytea);
    nil     uuid  := '00000000-0000-0000-0000-000000000000';
    message bytea;
BEGIN
    IF scheme IS NULL OR scheme NOT IN (1, 2) THEN
        RETURN NULL;
    END IF;
    message := uuid_send(originator_id) || int8send(originator_version)
            || int4send(octet_length(t)) || t
            || int4send(octet_length(state)) || state
            || int4send(octet_length(p)) || p;
    IF scheme = 2 THEN
        message := message || uuid_send(coalesce(event_id, nil)) || uuid_send(coalesce(correlation_id, nil))
                           || uuid_send(coalesce(causation_id, nil));
    END IF;
    RETURN set_byte('\x00'::bytea, 0, scheme) || sha256(opad || sha256(ipad || message));
END;
$$;
-- +goose StatementEnd

-- stored_events_hash is integrity_event_hash keyed by salt itself: the
-- hash an application with that salt records (for one-off checks; the
-- verify functions compute the pads once).
-- +goose StatementBegin
CREATE FUNCTION stored_events_hash(
    salt               bytea,
    scheme             integer,
    originator_id      uuid,
    originator_version bigint,
    topic              text,
    state              bytea,
    previous           bytea,
    event_id           uuid DEFAULT NULL,
    correlation_id     uuid DEFAULT NULL,
    causation_id       uuid DEFAULT NULL
) RETURNS bytea
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
    SELECT integrity_event_hash(k.ipad, k.opad, scheme, originator_id, originator_version, topic, state,
                                previous, event_id, correlation_id, causation_id)
      FROM integrity_hmac_pads(salt) AS k;
$$;
-- +goose StatementEnd

-- stored_events_verify returns a row for each problem of the aggregate
-- originator_id's events and snapshots with hashes keyed by salt, in
-- version order, events first; none when all verify. Events: a version
-- that does not follow the one before (events between are missing), an
-- event without a hash after a hashed one, a hash of no known scheme, a
-- hash that does not match the event chained to the one before it (the
-- event, or the one before it, was changed, moved or removed; the first
-- event of a chain is chained to nothing: events without a hash before
-- the first hashed one were recorded before the application hash-chained
-- its events, and are not covered). Snapshots: a seal (event_hash) of no
-- known scheme or that does not match, a head hash that is not the hash
-- of the event at the snapshot's version, or no such event. A snapshot
-- without a seal is not a problem (taken before the application
-- hash-chained its events; the application does not use it).
-- +goose StatementBegin
CREATE FUNCTION stored_events_verify(salt bytea, originator_id uuid)
RETURNS TABLE (version bigint, is_snapshot boolean, problem text)
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
DECLARE
    k        record;
    e        record;
    head     bytea;
    previous bigint;
    hashed   boolean := false;
    at_hash  bytea;
BEGIN
    SELECT * INTO k FROM integrity_hmac_pads(salt);
    is_snapshot := false;
    FOR e IN
        SELECT se.originator_version, se.topic, se.state, se.event_id, se.correlation_id, se.causation_id, se.event_hash
          FROM stored_events se
         WHERE se.originator_id = stored_events_verify.originator_id
         ORDER BY se.originator_version
    LOOP
        version := e.originator_version;
        IF previous IS NOT NULL AND e.originator_version <> previous + 1 THEN
            problem := format('follows version %s: the events between are missing', previous);
            RETURN NEXT;
        END IF;
        IF e.event_hash IS NULL THEN
            IF hashed THEN
                problem := 'has no hash, after a hashed event';
                RETURN NEXT;
            END IF;
            head := NULL;
        ELSIF octet_length(e.event_hash) <> 33 OR get_byte(e.event_hash, 0) NOT IN (1, 2) THEN
            problem := format('the hash (%s bytes) is of no known scheme', octet_length(e.event_hash));
            RETURN NEXT;
            head := e.event_hash;
            hashed := true;
        ELSE
            IF integrity_event_hash(k.ipad, k.opad, get_byte(e.event_hash, 0), stored_events_verify.originator_id,
                                    e.originator_version, e.topic, e.state, head,
                                    e.event_id, e.correlation_id, e.causation_id) <> e.event_hash THEN
                problem := 'the hash does not match the event chained to the one before it';
                RETURN NEXT;
            END IF;
            head := e.event_hash;
            hashed := true;
        END IF;
        previous := e.originator_version;
    END LOOP;

    is_snapshot := true;
    FOR e IN
        SELECT s.originator_version, s.topic, s.state, s.head_hash, s.event_hash
          FROM snapshots s
         WHERE s.originator_id = stored_events_verify.originator_id
         ORDER BY s.originator_version
    LOOP
        CONTINUE WHEN e.event_hash IS NULL;
        version := e.originator_version;
        IF octet_length(e.event_hash) <> 33 OR get_byte(e.event_hash, 0) <> 1 THEN
            problem := format('the seal (%s bytes) is of no known scheme', octet_length(e.event_hash));
            RETURN NEXT;
        ELSIF integrity_event_hash(k.ipad, k.opad, 1, stored_events_verify.originator_id, e.originator_version,
                                   e.topic, e.state, e.head_hash, NULL, NULL, NULL) <> e.event_hash THEN
            problem := 'does not match its seal: the snapshot was changed';
            RETURN NEXT;
        END IF;
        SELECT se.event_hash INTO at_hash
          FROM stored_events se
         WHERE se.originator_id = stored_events_verify.originator_id AND se.originator_version = e.originator_version;
        IF NOT FOUND THEN
            problem := 'has no event at its version';
            RETURN NEXT;
        ELSIF at_hash IS DISTINCT FROM e.head_hash THEN
            problem := 'its head hash is not the hash of the event at its version';
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- stored_events_verify_page verifies the aggregates (of events or
-- snapshots) whose ids come after after (from the first when NULL), up to
-- max_aggregates of them, in id order, and returns for each what it
-- checked and how many problems stored_events_verify found. A caller
-- verifies a whole application by calling it again with the last id
-- returned until it returns no row, reporting progress in between.
-- +goose StatementBegin
CREATE FUNCTION stored_events_verify_page(salt bytea, after uuid, max_aggregates integer)
RETURNS TABLE (
    originator_id      uuid,
    events             bigint,
    unhashed_events    bigint,
    snapshots          bigint,
    unsealed_snapshots bigint,
    problems           bigint
)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
    WITH ids AS (
        SELECT i.id
          FROM ((SELECT DISTINCT se.originator_id AS id FROM stored_events se
                  WHERE after IS NULL OR se.originator_id > after
                  ORDER BY 1 LIMIT max_aggregates)
                UNION
                (SELECT DISTINCT s.originator_id FROM snapshots s
                  WHERE after IS NULL OR s.originator_id > after
                  ORDER BY 1 LIMIT max_aggregates)) AS i
         ORDER BY i.id
         LIMIT max_aggregates
    )
    SELECT ids.id,
           (SELECT count(*) FROM stored_events se WHERE se.originator_id = ids.id),
           (SELECT count(*) FROM stored_events se WHERE se.originator_id = ids.id AND se.event_hash IS NULL),
           (SELECT count(*) FROM snapshots s WHERE s.originator_id = ids.id),
           (SELECT count(*) FROM snapshots s WHERE s.originator_id = ids.id AND s.event_hash IS NULL),
           (SELECT count(*) FROM stored_events_verify(salt, ids.id))
      FROM ids
     ORDER BY ids.id;
$$;
-- +goose StatementEnd

-- As for the other functions (00003): search_path pinned to the schema,
-- then pg_temp.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION integrity_hmac_pads(bytea) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION integrity_event_hash(bytea, bytea, integer, uuid, bigint, text, bytea, bytea, uuid, uuid, uuid) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_hash(bytea, integer, uuid, bigint, text, bytea, bytea, uuid, uuid, uuid) '
                   'SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_verify(bytea, uuid) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_verify_page(bytea, uuid, integer) SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION stored_events_verify_page(bytea, uuid, integer);
DROP FUNCTION stored_events_verify(bytea, uuid);
DROP FUNCTION stored_events_hash(bytea, integer, uuid, bigint, text, bytea, bytea, uuid, uuid, uuid);
DROP FUNCTION integrity_event_hash(bytea, bytea, integer, uuid, bigint, text, bytea, bytea, uuid, uuid, uuid);
DROP FUNCTION integrity_hmac_pads(bytea);
