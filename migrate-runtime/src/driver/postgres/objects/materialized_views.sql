-- Materialized views with their indexes (whose definitions name the schema: taken off).
SELECT 'materialized view', c.relname::text, NULL::text,
  v.query || CASE WHEN c.relispopulated THEN '' ELSE ' WITH NO DATA' END
    || coalesce(E'\n' || string_agg(i.def, E'\n' ORDER BY i.def), ''),
  ARRAY['CREATE MATERIALIZED VIEW ' || quote_ident(c.relname) || ' AS ' || v.query
    || CASE WHEN c.relispopulated THEN '' ELSE ' WITH NO DATA' END]
    || coalesce(array_agg(i.def ORDER BY i.def) FILTER (WHERE i.def IS NOT NULL), '{}'),
  ARRAY['DROP MATERIALIZED VIEW ' || quote_ident(c.relname)],
  'late', true
FROM pg_class c
  CROSS JOIN LATERAL (SELECT rtrim(btrim(pg_get_viewdef(c.oid, true)), ';') AS query) v
  LEFT JOIN LATERAL (SELECT replace(pg_get_indexdef(ix.indexrelid),
      ' ON ' || quote_ident(current_schema()) || '.', ' ON ') AS def
    FROM pg_index ix WHERE ix.indrelid = c.oid) i ON true
WHERE c.relkind = 'm'
  AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
    AND x.objid = c.oid AND x.deptype = 'e')
GROUP BY c.oid, c.relname, c.relispopulated, v.query
