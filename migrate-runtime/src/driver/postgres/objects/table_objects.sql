-- Exclusion constraints, rules and statistics objects on the current schema's tables.
SELECT 'exclusion constraint', con.conname || ' on ' || c.relname, c.relname::text,
  pg_get_constraintdef(con.oid, true),
  ARRAY['ALTER TABLE ' || quote_ident(c.relname) || ' ADD CONSTRAINT '
    || quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid, true)],
  ARRAY['ALTER TABLE ' || quote_ident(c.relname) || ' DROP CONSTRAINT ' || quote_ident(con.conname)],
  'late', true
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'x'
  AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
UNION ALL
SELECT 'rule', r.rulename || ' on ' || c.relname, c.relname::text, d.def, ARRAY[d.def],
  ARRAY['DROP RULE ' || quote_ident(r.rulename) || ' ON ' || quote_ident(c.relname)],
  'late', true
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class,
  LATERAL (SELECT rtrim(rtrim(pg_get_ruledef(r.oid, true)), ';') AS def) d
WHERE r.rulename <> '_RETURN'
  AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
    AND x.objid = c.oid AND x.deptype = 'e')
UNION ALL
SELECT 'statistics', s.stxname::text, c.relname::text, d.def, ARRAY[d.def],
  ARRAY['DROP STATISTICS ' || quote_ident(s.stxname)],
  'late', false
FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid,
  LATERAL (SELECT replace(pg_get_statisticsobjdef(s.oid),
    'STATISTICS ' || quote_ident(current_schema()) || '.', 'STATISTICS ') AS def) d
WHERE s.stxnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_statistic_ext'::regclass
    AND x.objid = s.oid AND x.deptype = 'e')
