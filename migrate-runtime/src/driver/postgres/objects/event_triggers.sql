-- Event triggers (database-wide). In a scratch schema inside a dev database, only those
-- whose function is in that schema belong to what is read.
SELECT 'event trigger', e.evtname::text, NULL::text,
  s.stmt || CASE e.evtenabled WHEN 'O' THEN '' ELSE ' (enabled: ' || e.evtenabled::text || ')' END,
  array_remove(ARRAY[s.stmt, CASE e.evtenabled
    WHEN 'D' THEN 'ALTER EVENT TRIGGER ' || quote_ident(e.evtname) || ' DISABLE'
    WHEN 'R' THEN 'ALTER EVENT TRIGGER ' || quote_ident(e.evtname) || ' ENABLE REPLICA'
    WHEN 'A' THEN 'ALTER EVENT TRIGGER ' || quote_ident(e.evtname) || ' ENABLE ALWAYS' END], NULL),
  ARRAY['DROP EVENT TRIGGER ' || quote_ident(e.evtname)],
  'late', true
FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid,
  LATERAL (SELECT concat_ws(' ',
    'CREATE EVENT TRIGGER ' || quote_ident(e.evtname) || ' ON ' || e.evtevent,
    'WHEN TAG IN (' || (SELECT string_agg(quote_literal(g), ', ' ORDER BY g)
      FROM unnest(e.evttags) g) || ')',
    'EXECUTE FUNCTION ' || e.evtfoid::regproc || '()') AS stmt) s
WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_event_trigger'::regclass
    AND x.objid = e.oid AND x.deptype = 'e')
  AND (current_schema() NOT LIKE 'migrate\_scratch\_%'
    OR p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))
