-- Schemas other than the one read (not the system's, not the tool's own scratch ones,
-- not an empty `public`), and what they hold, by kind, name and catalog text: only the
-- current schema is compared in full, but a difference elsewhere is still reported.
-- Inside a scratch schema of a dev database, the other schemas are the dev database's.
WITH ns AS (SELECT oid, nspname LIKE 'migrate\_scratch\_%' AS scratch
    FROM pg_namespace WHERE nspname = current_schema()),
  other AS (SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.oid <> (SELECT oid FROM ns) AND NOT (SELECT scratch FROM ns)
      AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'migrate\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_namespace'::regclass
        AND x.objid = n.oid AND x.deptype = 'e')
      AND (n.nspname <> 'public' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid)
        OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid)
        OR EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid)))
SELECT 'schema', o.nspname::text, NULL::text, '',
  ARRAY['CREATE SCHEMA ' || quote_ident(o.nspname)],
  ARRAY['DROP SCHEMA ' || quote_ident(o.nspname)], 'early', true
FROM other o
UNION ALL
SELECT k.kind, o.nspname || '.' || c.relname, NULL::text,
  CASE WHEN c.relkind IN ('v', 'm') THEN rtrim(btrim(pg_get_viewdef(c.oid, true)), ';')
    ELSE coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
        || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY a.attnum)
      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') END,
  NULL, ARRAY['DROP ' || upper(k.kind) || ' ' || quote_ident(o.nspname) || '.' || quote_ident(c.relname)],
  'late', false
FROM pg_class c JOIN other o ON o.oid = c.relnamespace,
  LATERAL (SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
    WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type'
    ELSE 'table' END AS kind) k
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i', 'a'))
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
  o.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL::text,
  CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END,
  CASE WHEN p.prokind <> 'a' THEN ARRAY[rtrim(rtrim(pg_get_functiondef(p.oid)), ';')] END,
  ARRAY['DROP ' || CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END
    || ' ' || quote_ident(o.nspname) || '.' || quote_ident(p.proname)
    || '(' || pg_get_function_identity_arguments(p.oid) || ')'],
  'functions', false
FROM pg_proc p JOIN other o ON o.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass
    AND x.objid = p.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'type', o.nspname || '.' || t.typname, NULL::text,
  CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
    WHEN 'r' THEN 'range' ELSE 'base' END,
  NULL, ARRAY['DROP ' || CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END || ' '
    || quote_ident(o.nspname) || '.' || quote_ident(t.typname)], 'early', false
FROM pg_type t JOIN other o ON o.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'r', 'b', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass
    AND x.objid = t.oid AND x.deptype IN ('e', 'i'))
