-- Tables whose row-level security is switched on (or forced), and their policies.
SELECT 'row level security', c.relname::text, c.relname::text,
  concat_ws(', ', CASE WHEN c.relrowsecurity THEN 'enabled' END,
    CASE WHEN c.relforcerowsecurity THEN 'forced' END),
  array_remove(ARRAY[
    CASE WHEN c.relrowsecurity THEN 'ALTER TABLE ' || quote_ident(c.relname) || ' ENABLE ROW LEVEL SECURITY' END,
    CASE WHEN c.relforcerowsecurity THEN 'ALTER TABLE ' || quote_ident(c.relname) || ' FORCE ROW LEVEL SECURITY' END], NULL),
  array_remove(ARRAY[
    CASE WHEN c.relforcerowsecurity THEN 'ALTER TABLE ' || quote_ident(c.relname) || ' NO FORCE ROW LEVEL SECURITY' END,
    CASE WHEN c.relrowsecurity THEN 'ALTER TABLE ' || quote_ident(c.relname) || ' DISABLE ROW LEVEL SECURITY' END], NULL),
  'late', true
FROM pg_class c
WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
  AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
UNION ALL
SELECT 'policy', p.polname || ' on ' || c.relname, c.relname::text, s.stmt,
  ARRAY[s.stmt],
  ARRAY['DROP POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(c.relname)],
  'late', true
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid,
  LATERAL (SELECT concat_ws(' ',
    'CREATE POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(c.relname),
    CASE WHEN p.polpermissive THEN 'AS PERMISSIVE' ELSE 'AS RESTRICTIVE' END,
    'FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
      WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
    'TO ' || (SELECT string_agg(g.role, ', ' ORDER BY g.role)
      FROM (SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE quote_ident(ro.rolname) END
        FROM unnest(p.polroles) r(oid) LEFT JOIN pg_roles ro ON ro.oid = r.oid) g(role)),
    'USING (' || pg_get_expr(p.polqual, p.polrelid, true) || ')',
    'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid, true) || ')') AS stmt) s
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
