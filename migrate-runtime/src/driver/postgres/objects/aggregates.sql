-- Aggregates, their CREATE AGGREGATE options rebuilt from pg_aggregate; window
-- functions as pg_get_functiondef prints them (without the schema).
SELECT 'aggregate', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  NULL::text, s.stmt, ARRAY[s.stmt],
  ARRAY['DROP AGGREGATE ' || quote_ident(p.proname) || '('
    || pg_get_function_identity_arguments(p.oid) || ')'],
  'functions', true
FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid,
  LATERAL (SELECT 'CREATE AGGREGATE ' || quote_ident(p.proname) || '('
    || pg_get_function_arguments(p.oid) || ') (' || concat_ws(', ',
      'SFUNC = ' || a.aggtransfn::regproc,
      'STYPE = ' || format_type(a.aggtranstype, NULL),
      CASE WHEN a.aggtransspace > 0 THEN 'SSPACE = ' || a.aggtransspace END,
      CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc END,
      CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
      CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify
        WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
      CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc END,
      CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc END,
      CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc END,
      'INITCOND = ' || quote_literal(a.agginitval),
      CASE WHEN a.aggmtransfn <> 0 THEN 'MSFUNC = ' || a.aggmtransfn::regproc END,
      CASE WHEN a.aggminvtransfn <> 0 THEN 'MINVFUNC = ' || a.aggminvtransfn::regproc END,
      CASE WHEN a.aggmtranstype <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
      CASE WHEN a.aggmtransspace > 0 THEN 'MSSPACE = ' || a.aggmtransspace END,
      CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || a.aggmfinalfn::regproc END,
      CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
      'MINITCOND = ' || quote_literal(a.aggminitval),
      CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = ' || a.aggsortop::regoper END,
      CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END,
      CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END) || ')' AS stmt) s
WHERE p.prokind = 'a'
  AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass
    AND x.objid = p.oid AND x.deptype = 'e')
UNION ALL
SELECT 'window function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  NULL::text, f.def, ARRAY[f.def],
  ARRAY['DROP FUNCTION ' || quote_ident(p.proname) || '('
    || pg_get_function_identity_arguments(p.oid) || ')'],
  'functions', true
FROM pg_proc p,
  LATERAL (SELECT rtrim(rtrim(replace(pg_get_functiondef(p.oid),
    'FUNCTION ' || quote_ident(current_schema()) || '.', 'FUNCTION ')), ';') AS def) f
WHERE p.prokind = 'w'
  AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass
    AND x.objid = p.oid AND x.deptype = 'e')
