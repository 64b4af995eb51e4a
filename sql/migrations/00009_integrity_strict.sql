-- Integrity, strict: the verify functions of 00007 with a third (and
-- fourth) argument, strict. Not strict, they are those of 00007: events
-- without a hash before the first hashed one of their aggregate were
-- recorded before the application hash-chained its events, and are not
-- covered; a snapshot without a seal is not a problem. Strict, every
-- event without a hash and every snapshot without a seal is a problem:
-- whoever removes every hash of an aggregate (or a snapshot's seal) to
-- edit it without the salt is found (docs/integrity.md, Limits).
--
-- The functions of 00007 stay, unchanged, for their callers. As they, the
-- new ones only read: SECURITY INVOKER (the caller needs SELECT on the
-- tables), search_path pinned to the schema, then pg_temp.

-- +goose Up

-- stored_events_verify returns the problems of stored_events_verify(salt,
-- originator_id) and, when strict, also a row for each event without a
-- hash before the aggregate's first hashed event and for each snapshot
-- without a seal; in version order, events first.
-- +goose StatementBegin
CREATE FUNCTION stored_events_verify(salt bytea, originator_id uuid, strict boolean)
RETURNS TABLE (version bigint, is_snapshot boolean, problem text)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path FROM CURRENT
AS $$
    SELECT p.version, p.is_snapshot, p.problem
      FROM (SELECT v.version, v.is_snapshot, v.problem, v.n
              FROM stored_events_verify(salt, stored_events_verify.originator_id)
                   WITH ORDINALITY AS v(version, is_snapshot, problem, n)
            UNION ALL
            SELECT se.originator_version, false, 'has no hash (strict: every event must have one)', 0
              FROM stored_events se
             WHERE strict
               AND se.originator_id = stored_events_verify.originator_id
               AND se.event_hash IS NULL
               AND se.originator_version < coalesce(
                       (SELECT min(h.originator_version) FROM stored_events h
                         WHERE h.originator_id = stored_events_verify.originator_id AND h.event_hash IS NOT NULL),
                       9223372036854775807)
            UNION ALL
            SELECT s.originator_version, true, 'is not sealed (strict: every snapshot must be)', 0
              FROM snapshots s
             WHERE strict
               AND s.originator_id = stored_events_verify.originator_id
               AND s.event_hash IS NULL) AS p
     ORDER BY p.is_snapshot, p.version, p.n;
$$;
-- +goose StatementEnd

-- stored_events_verify_page is stored_events_verify_page(salt, after,
-- max_aggregates) whose problems are those of stored_events_verify(salt,
-- id, strict).
-- +goose StatementBegin
CREATE FUNCTION stored_events_verify_page(salt bytea, after uuid, max_aggregates integer, strict boolean)
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
           (SELECT count(*) FROM stored_events_verify(salt, ids.id, strict))
      FROM ids
     ORDER BY ids.id;
$$;
-- +goose StatementEnd

-- As for the other functions (00003, 00007): search_path pinned to the
-- schema, then pg_temp.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION stored_events_verify(bytea, uuid, boolean) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_verify_page(bytea, uuid, integer, boolean) SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION stored_events_verify_page(bytea, uuid, integer, boolean);
DROP FUNCTION stored_events_verify(bytea, uuid, boolean);
