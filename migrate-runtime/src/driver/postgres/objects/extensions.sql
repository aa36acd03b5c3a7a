-- Extensions, compared by name and schema (not version). plpgsql is left out: every
-- database has it from its template. In a scratch schema inside a dev database only the
-- extensions installed into that schema belong to what is read.
SELECT 'extension', e.extname::text, NULL::text,
  CASE WHEN e.extnamespace = ns.oid THEN '' ELSE 'schema ' || quote_ident(n.nspname) END,
  ARRAY['CREATE EXTENSION IF NOT EXISTS ' || quote_ident(e.extname)
    || CASE WHEN e.extnamespace = ns.oid THEN '' ELSE ' WITH SCHEMA ' || quote_ident(n.nspname) END],
  ARRAY['DROP EXTENSION ' || quote_ident(e.extname)],
  'early', true
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace,
  (SELECT oid, nspname FROM pg_namespace WHERE nspname = current_schema()) ns
WHERE e.extname <> 'plpgsql'
  AND (ns.nspname NOT LIKE 'migrate\_scratch\_%' OR e.extnamespace = ns.oid)
