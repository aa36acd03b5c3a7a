-- Domains of the current schema. One over a type of its own schema (an enum, another
-- domain) comes after the types and functions, else before them.
SELECT 'domain', t.typname::text, NULL::text, d.body,
  ARRAY['CREATE DOMAIN ' || quote_ident(t.typname) || ' AS ' || d.body],
  ARRAY['DROP DOMAIN ' || quote_ident(t.typname)],
  CASE WHEN bt.typnamespace = 'pg_catalog'::regnamespace THEN 'early' ELSE 'functions' END,
  true
FROM pg_type t JOIN pg_type bt ON bt.oid = t.typbasetype
  LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> bt.typcollation,
  LATERAL (SELECT concat_ws(' ',
    format_type(t.typbasetype, t.typtypmod),
    'COLLATE ' || quote_ident(co.collname),
    'DEFAULT ' || pg_get_expr(t.typdefaultbin, 0),
    CASE WHEN t.typnotnull THEN 'NOT NULL' END,
    (SELECT string_agg('CONSTRAINT ' || quote_ident(c.conname) || ' '
        || pg_get_constraintdef(c.oid, true), ' ' ORDER BY c.conname)
      FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c')) AS body) d
WHERE t.typtype = 'd'
  AND t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass
    AND x.objid = t.oid AND x.deptype = 'e')
