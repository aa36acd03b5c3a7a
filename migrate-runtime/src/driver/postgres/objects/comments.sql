-- Comments on the objects of the current schema (and on event triggers), not on
-- schemas or extensions (an extension comments itself) nor on what an extension owns.
-- The target is pg_identify_object's identity without the schema's name; the table is
-- the relation the comment is on or belongs to (a column's, a constraint's, an index's).
SELECT 'comment', 'on ' || g.word || ' ' || replace(g.target, ' ON DOMAIN ', ' on domain '),
  (SELECT c.relname::text FROM pg_class c WHERE c.oid = CASE d.classoid
    WHEN 'pg_class'::regclass THEN coalesce((SELECT indrelid FROM pg_index WHERE indexrelid = d.objoid), d.objoid)
    WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objoid)
    WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objoid)
    WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objoid)
    WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objoid) END),
  quote_literal(d.description),
  ARRAY['COMMENT ON ' || upper(g.word) || ' ' || g.target || ' IS ' || quote_literal(d.description)],
  ARRAY['COMMENT ON ' || upper(g.word) || ' ' || g.target || ' IS NULL'],
  'late', o.type IN ('table', 'table column', 'view', 'materialized view', 'index', 'sequence',
    'type', 'function', 'procedure', 'aggregate', 'table constraint', 'domain constraint',
    'trigger', 'policy', 'rule', 'event trigger', 'foreign table', 'statistics object')
FROM pg_description d,
  LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o,
  LATERAL (SELECT replace(o.identity, quote_ident(current_schema()) || '.', '') AS target) t,
  LATERAL (SELECT CASE o.type WHEN 'table column' THEN 'column'
      WHEN 'table constraint' THEN 'constraint' WHEN 'domain constraint' THEN 'constraint'
      WHEN 'statistics object' THEN 'statistics' ELSE o.type END AS word,
    CASE o.type WHEN 'domain constraint' THEN regexp_replace(t.target, ' on ', ' ON DOMAIN ')
      ELSE t.target END AS target) g
WHERE d.objoid >= 16384 -- FirstNormalObjectId: the system's own comments are older
  AND d.classoid NOT IN ('pg_namespace'::regclass, 'pg_extension'::regclass)
  AND (o.schema = current_schema()
    OR (o.type = 'event trigger' AND current_schema() NOT LIKE 'migrate\_scratch\_%'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid
    AND x.objid = d.objoid AND x.deptype = 'e')
