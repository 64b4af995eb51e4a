-- Least privilege: the insert procedures run with the rights of their
-- owner (the role that migrates), so that a role allowed to record events
-- needs EXECUTE on them and no privilege on the tables: nothing that would
-- let it update, delete, truncate or lock the recorded events
-- (docs/security.md). Their bodies are unchanged.
--
-- A SECURITY DEFINER function must not find objects through a schema its
-- caller can write to: search_path is pinned to the application's schema,
-- then pg_temp last (PostgreSQL's "Writing SECURITY DEFINER Functions
-- Safely"). The schema is the one this migration is applied to.
--
-- EXECUTE is revoked from PUBLIC (the owner keeps it): grant it to the
-- roles that record events.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) '
                   'SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) '
                   'SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) FROM PUBLIC;

-- +goose Down
GRANT EXECUTE ON FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) TO PUBLIC;
GRANT EXECUTE ON FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) TO PUBLIC;
ALTER FUNCTION stored_events_insert(uuid[], bigint[], text[], bytea[], text, bigint) SECURITY INVOKER SET search_path FROM CURRENT;
ALTER FUNCTION stored_events_insert_batch(uuid[], bigint[], text[], bytea[], int[]) SECURITY INVOKER SET search_path FROM CURRENT;
