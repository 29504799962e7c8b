-- The forum app's schema. playbooks/postgres.yml applies it on the primary, as the database
-- superuser, with psql -v owner=<the app's role>; the app itself never runs DDL, so a
-- replica being verified (read-only) and a database only other clients wrote to both work.
-- Idempotent, and runs no DDL when nothing is missing (a fenced, read-only source database
-- converges too). Prints "created" only when it made the table, else "present".
SELECT to_regclass('public.items') IS NULL AS missing,
       coalesce((SELECT tableowner <> :'owner' FROM pg_tables
                 WHERE schemaname = 'public' AND tablename = 'items'), true) AS wrong_owner
\gset
\if :missing
\echo created
CREATE TABLE items (
    id         bigserial PRIMARY KEY,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
\else
\echo present
\endif
-- The app's role owns the table (its sequence follows), so the app can write to it.
\if :wrong_owner
ALTER TABLE items OWNER TO :"owner";
\endif
