-- Properties of the current schema's tables that the table model does not hold, each
-- set and unset by an ALTER TABLE of its own: a replica identity other than the
-- default. (Inheritance, UNLOGGED and storage parameters are the table model's.)
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
  tbl AS (SELECT c.oid, c.relname, c.relreplident,
      quote_ident(c.relname) AS q
    FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
        AND x.objid = c.oid AND x.deptype = 'e'))
SELECT 'replica identity', t.relname::text, t.relname::text, r.what,
  ARRAY['ALTER TABLE ' || t.q || ' REPLICA IDENTITY ' || r.what],
  ARRAY['ALTER TABLE ' || t.q || ' REPLICA IDENTITY DEFAULT'], 'late', true
FROM tbl t,
  LATERAL (SELECT CASE t.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
    ELSE 'USING INDEX ' || (SELECT quote_ident(ic.relname) FROM pg_index ix
      JOIN pg_class ic ON ic.oid = ix.indexrelid
      WHERE ix.indrelid = t.oid AND ix.indisreplident) END AS what) r
WHERE t.relreplident <> 'd'
