-- Standalone composite types, range types, and base or shell types of the current
-- schema (not the row types of tables, nor array and multirange types, which come with
-- another type). One that uses a type or function of its own schema comes after the
-- types and functions, else before them.
SELECT 'type', t.typname::text, NULL::text, 'AS (' || a.attrs || ')',
  ARRAY['CREATE TYPE ' || quote_ident(t.typname) || ' AS (' || a.attrs || ')'],
  ARRAY['DROP TYPE ' || quote_ident(t.typname)],
  CASE WHEN a.own THEN 'functions' ELSE 'early' END, true
FROM pg_type t,
  LATERAL (SELECT coalesce(string_agg(quote_ident(at.attname) || ' '
        || format_type(at.atttypid, at.atttypmod)
        || CASE WHEN at.attcollation <> ty.typcollation
          THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END, ', ' ORDER BY at.attnum), '') AS attrs,
      coalesce(bool_or(ty.typnamespace <> 'pg_catalog'::regnamespace), false) AS own
    FROM pg_attribute at JOIN pg_type ty ON ty.oid = at.atttypid
      LEFT JOIN pg_collation co ON co.oid = at.attcollation
    WHERE at.attrelid = t.typrelid AND at.attnum > 0 AND NOT at.attisdropped) a
WHERE t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'
  AND t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass
    AND x.objid = t.oid AND x.deptype = 'e')
UNION ALL
SELECT 'type', t.typname::text, NULL::text, r.body,
  ARRAY['CREATE TYPE ' || quote_ident(t.typname) || ' ' || r.body],
  ARRAY['DROP TYPE ' || quote_ident(t.typname)],
  CASE WHEN st.typnamespace = 'pg_catalog'::regnamespace AND r.rngcanonical = 0
    AND (r.rngsubdiff = 0 OR (SELECT pronamespace FROM pg_proc WHERE oid = r.rngsubdiff)
      = 'pg_catalog'::regnamespace) THEN 'early' ELSE 'functions' END,
  true
FROM pg_type t JOIN LATERAL (SELECT rg.rngsubtype, rg.rngcanonical, rg.rngsubdiff,
    'AS RANGE (' || concat_ws(', ',
      'SUBTYPE = ' || format_type(rg.rngsubtype, NULL),
      CASE WHEN NOT opc.opcdefault THEN 'SUBTYPE_OPCLASS = ' || quote_ident(opc.opcname) END,
      CASE WHEN rg.rngcollation <> 0 AND rg.rngcollation <> sub.typcollation
        THEN 'COLLATION = ' || quote_ident(co.collname) END,
      CASE WHEN rg.rngcanonical <> 0 THEN 'CANONICAL = ' || rg.rngcanonical::regproc END,
      CASE WHEN rg.rngsubdiff <> 0 THEN 'SUBTYPE_DIFF = ' || rg.rngsubdiff::regproc END,
      CASE WHEN mr.typname IS NOT NULL AND mr.typname <> CASE WHEN t.typname LIKE '%range%'
          THEN regexp_replace(t.typname, 'range', 'multirange') ELSE t.typname || '_multirange' END
        THEN 'MULTIRANGE_TYPE_NAME = ' || quote_ident(mr.typname) END) || ')' AS body
    FROM pg_range rg JOIN pg_type sub ON sub.oid = rg.rngsubtype
      JOIN pg_opclass opc ON opc.oid = rg.rngsubopc
      LEFT JOIN pg_collation co ON co.oid = rg.rngcollation
      LEFT JOIN pg_type mr ON mr.oid = rg.rngmultitypid
    WHERE rg.rngtypid = t.oid) r ON true
  JOIN pg_type st ON st.oid = r.rngsubtype
WHERE t.typtype = 'r'
  AND t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass
    AND x.objid = t.oid AND x.deptype = 'e')
UNION ALL
SELECT CASE t.typtype WHEN 'p' THEN 'shell type' ELSE 'base type' END, t.typname::text, NULL::text,
  concat_ws(', ', 'input ' || nullif(t.typinput, 0)::regproc, 'output ' || nullif(t.typoutput, 0)::regproc,
    'length ' || t.typlen, 'alignment ' || t.typalign::text, 'storage ' || t.typstorage::text),
  NULL, NULL,
  'early', false
FROM pg_type t
WHERE t.typtype IN ('b', 'p')
  AND t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass
    AND x.objid = t.oid AND x.deptype IN ('e', 'i'))
