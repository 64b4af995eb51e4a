-- Group commit: one call records the events of many saves under one lock
-- and one commit, while each save keeps its own outcome.

-- +goose Up

-- stored_events_insert_batch records the events of several saves at once.
-- save_numbers gives, for each row, the save it belongs to: 1, 2, ... in
-- the order the saves are to be applied, with the rows of each save
-- together. Under the EXCLUSIVE lock (nobody else can insert meanwhile) it
-- checks every save as if the saves ran one after another: a save fails
-- when one of its (originator_id, originator_version) is recorded already,
-- or repeats within the save, or is a key of an earlier save that did not
-- fail. The rows of the other saves are inserted in order. It returns one
-- number per input row, in input order: the row's new notification id
-- (always positive); 0 for a row of a save that failed; -1 for a row of a
-- save that failed because of that row's key. Listeners of the channel
-- named after the schema are notified at commit.
-- +goose StatementBegin
CREATE FUNCTION stored_events_insert_batch(
    originator_ids      uuid[],
    originator_versions bigint[],
    topics              text[],
    states              bytea[],
    save_numbers        int[]
) RETURNS bigint[]
LANGUAGE plpgsql
SET search_path FROM CURRENT
-- The conflict check must look keys up in the primary key index: a cached
-- generic plan made before the table had statistics would scan it.
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

-- +goose Down
DROP FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]);
