-- Properties of the current schema's tables that the table model does not hold, each
-- set and unset by an ALTER TABLE of its own: inheritance (not partitions), UNLOGGED,
-- storage parameters and a replica identity other than the default.
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
  tbl AS (SELECT c.oid, c.relname, c.relpersistence, c.reloptions, c.relreplident,
      quote_ident(c.relname) AS q
    FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
        AND x.objid = c.oid AND x.deptype = 'e'))
SELECT 'inheritance', t.relname || ' inherits ' || p.parent, t.relname::text,
  'INHERIT ' || p.parent,
  ARRAY['ALTER TABLE ' || t.q || ' INHERIT ' || p.parent],
  ARRAY['ALTER TABLE ' || t.q || ' NO INHERIT ' || p.parent], 'late', true
FROM tbl t JOIN pg_inherits i ON i.inhrelid = t.oid,
  LATERAL (SELECT i.inhparent::regclass::text AS parent) p
UNION ALL
SELECT 'unlogged table', t.relname::text, t.relname::text, 'UNLOGGED',
  ARRAY['ALTER TABLE ' || t.q || ' SET UNLOGGED'],
  ARRAY['ALTER TABLE ' || t.q || ' SET LOGGED'], 'late', true
FROM tbl t WHERE t.relpersistence = 'u'
UNION ALL
SELECT 'storage parameters', t.relname::text, t.relname::text, o.list,
  ARRAY['ALTER TABLE ' || t.q || ' SET (' || o.list || ')'],
  ARRAY['ALTER TABLE ' || t.q || ' RESET (' || o.names || ')'], 'late', true
FROM tbl t,
  LATERAL (SELECT string_agg(quote_ident(x.option_name) || ' = ' || quote_literal(x.option_value),
      ', ' ORDER BY x.option_name) AS list,
    string_agg(quote_ident(x.option_name), ', ' ORDER BY x.option_name) AS names
    FROM pg_options_to_table(t.reloptions) x) o
WHERE t.reloptions IS NOT NULL
UNION ALL
SELECT 'replica identity', t.relname::text, t.relname::text, r.what,
  ARRAY['ALTER TABLE ' || t.q || ' REPLICA IDENTITY ' || r.what],
  ARRAY['ALTER TABLE ' || t.q || ' REPLICA IDENTITY DEFAULT'], 'late', true
FROM tbl t,
  LATERAL (SELECT CASE t.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
    ELSE 'USING INDEX ' || (SELECT quote_ident(ic.relname) FROM pg_index ix
      JOIN pg_class ic ON ic.oid = ix.indexrelid
      WHERE ix.indrelid = t.oid AND ix.indisreplident) END AS what) r
WHERE t.relreplident <> 'd'
