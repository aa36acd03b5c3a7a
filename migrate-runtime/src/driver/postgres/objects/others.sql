-- Every other kind of object of the current schema, not owned by an extension, kept by
-- kind, name and what the catalog says about it: the model does not describe these, so
-- a revision that writes one is reviewed by hand (and one that cannot be written from
-- the catalog stops, naming it). Database-wide ones (casts, wrappers, servers,
-- publications...) are left out of a scratch schema inside a dev database, where they
-- belong to the dev database.
WITH ns AS (SELECT oid, nspname, nspname LIKE 'migrate\_scratch\_%' AS scratch
  FROM pg_namespace WHERE nspname = current_schema())
SELECT 'foreign table', c.relname::text, NULL::text, f.body,
  ARRAY['CREATE FOREIGN TABLE ' || quote_ident(c.relname) || ' ' || f.body],
  ARRAY['DROP FOREIGN TABLE ' || quote_ident(c.relname)], 'functions', false
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
  JOIN pg_foreign_server s ON s.oid = ft.ftserver,
  LATERAL (SELECT '(' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' '
        || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
        ', ' ORDER BY a.attnum) FROM pg_attribute a
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
    || ') SERVER ' || quote_ident(s.srvname)
    || coalesce(' OPTIONS (' || (SELECT string_agg(quote_ident(o.option_name) || ' ' || quote_literal(o.option_value), ', ' ORDER BY o.option_name) FROM pg_options_to_table(ft.ftoptions) o) || ')', '') AS body) f
WHERE c.relnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'relation (relkind ' || c.relkind::text || ')', c.relname::text, NULL::text,
  'relkind ' || c.relkind::text, NULL, NULL, 'late', false
FROM pg_class c
WHERE c.relnamespace = (SELECT oid FROM ns)
  AND c.relkind NOT IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'c', 't', 'f')
UNION ALL
SELECT 'operator', o.oprname || '(' || coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE')
    || ', ' || format_type(o.oprright, NULL) || ')', NULL::text, b.body,
  ARRAY['CREATE OPERATOR ' || o.oprname || ' ' || b.body],
  ARRAY['DROP OPERATOR ' || o.oprname || '(' || coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE')
    || ', ' || format_type(o.oprright, NULL) || ')'], 'functions', false
FROM pg_operator o,
  LATERAL (SELECT '(' || concat_ws(', ', 'FUNCTION = ' || o.oprcode::regproc,
    'LEFTARG = ' || format_type(nullif(o.oprleft, 0), NULL),
    'RIGHTARG = ' || format_type(o.oprright, NULL),
    'COMMUTATOR = OPERATOR(' || nullif(o.oprcom, 0)::regoper || ')',
    'NEGATOR = OPERATOR(' || nullif(o.oprnegate, 0)::regoper || ')',
    'RESTRICT = ' || nullif(o.oprrest, 0)::regproc, 'JOIN = ' || nullif(o.oprjoin, 0)::regproc,
    CASE WHEN o.oprcanhash THEN 'HASHES' END, CASE WHEN o.oprcanmerge THEN 'MERGES' END)
    || ')' AS body) b
WHERE o.oprnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_operator'::regclass
    AND x.objid = o.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'operator class', c.opcname || ' using ' || am.amname, NULL::text, b.body,
  ARRAY['CREATE OPERATOR CLASS ' || quote_ident(c.opcname) || ' ' || b.body],
  ARRAY['DROP OPERATOR CLASS ' || quote_ident(c.opcname) || ' USING ' || am.amname],
  'functions', false
FROM pg_opclass c JOIN pg_am am ON am.oid = c.opcmethod JOIN pg_opfamily f ON f.oid = c.opcfamily,
  LATERAL (SELECT concat_ws(' ', CASE WHEN c.opcdefault THEN 'DEFAULT' END,
    'FOR TYPE ' || format_type(c.opcintype, NULL), 'USING ' || am.amname,
    CASE WHEN f.opfname <> c.opcname THEN 'FAMILY ' || quote_ident(f.opfname) END,
    'STORAGE ' || format_type(nullif(c.opckeytype, 0), NULL),
    'AS ' || concat_ws(', ',
      (SELECT string_agg('OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator, ', '
        ORDER BY ao.amopstrategy) FROM pg_amop ao WHERE ao.amopfamily = c.opcfamily
        AND ao.amoplefttype = c.opcintype AND ao.amoprighttype = c.opcintype),
      (SELECT string_agg('FUNCTION ' || ap.amprocnum || ' ' || ap.amproc::regprocedure, ', '
        ORDER BY ap.amprocnum) FROM pg_amproc ap WHERE ap.amprocfamily = c.opcfamily
        AND ap.amproclefttype = c.opcintype AND ap.amprocrighttype = c.opcintype))) AS body) b
WHERE c.opcnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_opclass'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'operator family', f.opfname || ' using ' || am.amname, NULL::text, 'USING ' || am.amname,
  ARRAY['CREATE OPERATOR FAMILY ' || quote_ident(f.opfname) || ' USING ' || am.amname],
  ARRAY['DROP OPERATOR FAMILY ' || quote_ident(f.opfname) || ' USING ' || am.amname],
  'functions', false
FROM pg_opfamily f JOIN pg_am am ON am.oid = f.opfmethod
WHERE f.opfnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid AND c.opcname = f.opfname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_opfamily'::regclass
    AND x.objid = f.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'collation', c.collname::text, NULL::text, b.body,
  ARRAY['CREATE COLLATION ' || quote_ident(c.collname) || ' ' || b.body],
  ARRAY['DROP COLLATION ' || quote_ident(c.collname)], 'early', true
FROM pg_collation c,
  LATERAL (SELECT '(' || concat_ws(', ',
    'PROVIDER = ' || CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END,
    CASE WHEN c.collprovider = 'i' THEN 'LOCALE = ' || quote_literal(c.colliculocale) END,
    CASE WHEN c.collprovider <> 'i' THEN 'LC_COLLATE = ' || quote_literal(c.collcollate) END,
    CASE WHEN c.collprovider <> 'i' THEN 'LC_CTYPE = ' || quote_literal(c.collctype) END,
    CASE WHEN NOT c.collisdeterministic THEN 'DETERMINISTIC = false' END) || ')' AS body) b
WHERE c.collnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_collation'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'conversion', c.conname::text, NULL::text, b.body,
  ARRAY['CREATE ' || CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END || 'CONVERSION '
    || quote_ident(c.conname) || ' ' || b.body],
  ARRAY['DROP CONVERSION ' || quote_ident(c.conname)], 'functions', false
FROM pg_conversion c,
  LATERAL (SELECT 'FOR ' || quote_literal(pg_encoding_to_char(c.conforencoding)) || ' TO '
    || quote_literal(pg_encoding_to_char(c.contoencoding)) || ' FROM ' || c.conproc::regproc AS body) b
WHERE c.connamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_conversion'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'text search configuration', c.cfgname::text, NULL::text,
  'PARSER = ' || (SELECT quote_ident(prsname) FROM pg_ts_parser WHERE oid = c.cfgparser) || coalesce(E'\n' || m.maps, ''),
  ARRAY['CREATE TEXT SEARCH CONFIGURATION ' || quote_ident(c.cfgname) || ' (PARSER = '
    || (SELECT quote_ident(prsname) FROM pg_ts_parser WHERE oid = c.cfgparser) || ')']
    || coalesce(m.stmts, '{}'),
  ARRAY['DROP TEXT SEARCH CONFIGURATION ' || quote_ident(c.cfgname)], 'functions', false
FROM pg_ts_config c,
  LATERAL (SELECT string_agg(t.alias || ': ' || d.dicts, E'\n' ORDER BY t.alias) AS maps,
      array_agg('ALTER TEXT SEARCH CONFIGURATION ' || quote_ident(c.cfgname) || ' ADD MAPPING FOR '
        || t.alias || ' WITH ' || d.dicts ORDER BY t.alias) AS stmts
    FROM ts_token_type(c.cfgparser) t,
      LATERAL (SELECT string_agg(m.mapdict::regdictionary::text, ', ' ORDER BY m.mapseqno) AS dicts
        FROM pg_ts_config_map m WHERE m.mapcfg = c.oid AND m.maptokentype = t.tokid) d
    WHERE d.dicts IS NOT NULL) m
WHERE c.cfgnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_config'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'text search dictionary', d.dictname::text, NULL::text, b.body,
  ARRAY['CREATE TEXT SEARCH DICTIONARY ' || quote_ident(d.dictname) || ' (' || b.body || ')'],
  ARRAY['DROP TEXT SEARCH DICTIONARY ' || quote_ident(d.dictname)], 'functions', false
FROM pg_ts_dict d,
  LATERAL (SELECT concat_ws(', ', 'TEMPLATE = ' || (SELECT quote_ident(tmplname) FROM pg_ts_template
    WHERE oid = d.dicttemplate), d.dictinitoption) AS body) b
WHERE d.dictnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_dict'::regclass
    AND x.objid = d.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'text search parser', p.prsname::text, NULL::text,
  concat_ws(', ', 'START = ' || p.prsstart::regproc, 'GETTOKEN = ' || p.prstoken::regproc,
    'END = ' || p.prsend::regproc, 'LEXTYPES = ' || p.prslextype::regproc,
    'HEADLINE = ' || nullif(p.prsheadline, 0)::regproc),
  NULL, ARRAY['DROP TEXT SEARCH PARSER ' || quote_ident(p.prsname)], 'functions', false
FROM pg_ts_parser p
WHERE p.prsnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_parser'::regclass
    AND x.objid = p.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'text search template', t.tmplname::text, NULL::text,
  concat_ws(', ', 'INIT = ' || nullif(t.tmplinit, 0)::regproc, 'LEXIZE = ' || t.tmpllexize::regproc),
  NULL, ARRAY['DROP TEXT SEARCH TEMPLATE ' || quote_ident(t.tmplname)], 'functions', false
FROM pg_ts_template t
WHERE t.tmplnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_ts_template'::regclass
    AND x.objid = t.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'cast', '(' || format_type(c.castsource, NULL) || ' as ' || format_type(c.casttarget, NULL) || ')',
  NULL::text, b.body,
  ARRAY['CREATE CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL)
    || ') ' || b.body],
  ARRAY['DROP CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')'],
  'functions', false
FROM pg_cast c,
  LATERAL (SELECT CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure
      WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END
    || CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END AS body) b
WHERE c.oid >= 16384
  AND (NOT (SELECT scratch FROM ns) OR (SELECT oid FROM ns) IN (
    (SELECT typnamespace FROM pg_type WHERE oid = c.castsource),
    (SELECT typnamespace FROM pg_type WHERE oid = c.casttarget)))
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_cast'::regclass
    AND x.objid = c.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'foreign data wrapper', w.fdwname::text, NULL::text, b.body,
  ARRAY['CREATE FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname) || b.body],
  ARRAY['DROP FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname)], 'early', false
FROM pg_foreign_data_wrapper w,
  LATERAL (SELECT concat_ws(' ', '', 'HANDLER ' || nullif(w.fdwhandler, 0)::regproc,
    'VALIDATOR ' || nullif(w.fdwvalidator, 0)::regproc,
    'OPTIONS (' || (SELECT string_agg(quote_ident(o.option_name) || ' ' || quote_literal(o.option_value), ', ' ORDER BY o.option_name) FROM pg_options_to_table(w.fdwoptions) o) || ')') AS body) b
WHERE NOT (SELECT scratch FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_foreign_data_wrapper'::regclass
    AND x.objid = w.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'server', s.srvname::text, NULL::text, b.body,
  ARRAY['CREATE SERVER ' || quote_ident(s.srvname) || b.body],
  ARRAY['DROP SERVER ' || quote_ident(s.srvname)], 'early', false
FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw,
  LATERAL (SELECT concat_ws(' ', '', 'TYPE ' || quote_literal(s.srvtype),
    'VERSION ' || quote_literal(s.srvversion), 'FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname),
    'OPTIONS (' || (SELECT string_agg(quote_ident(o.option_name) || ' ' || quote_literal(o.option_value), ', ' ORDER BY o.option_name) FROM pg_options_to_table(s.srvoptions) o) || ')') AS body) b
WHERE NOT (SELECT scratch FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_foreign_server'::regclass
    AND x.objid = s.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'publication', p.pubname::text, NULL::text, b.body,
  ARRAY['CREATE PUBLICATION ' || quote_ident(p.pubname) || b.body],
  ARRAY['DROP PUBLICATION ' || quote_ident(p.pubname)], 'late', false
FROM pg_publication p,
  LATERAL (SELECT concat_ws(' ', '',
    CASE WHEN p.puballtables THEN 'FOR ALL TABLES' ELSE 'FOR TABLE ' || (SELECT string_agg(
      replace(r.prrelid::regclass::text, quote_ident(current_schema()) || '.', ''), ', '
      ORDER BY r.prrelid::regclass::text) FROM pg_publication_rel r WHERE r.prpubid = p.oid) END,
    'WITH (publish = ' || quote_literal(concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END,
      CASE WHEN p.pubupdate THEN 'update' END, CASE WHEN p.pubdelete THEN 'delete' END,
      CASE WHEN p.pubtruncate THEN 'truncate' END)) || ')') AS body) b
WHERE NOT (SELECT scratch FROM ns)
UNION ALL
SELECT 'subscription', s.subname::text, NULL::text, 'publications ' || array_to_string(s.subpublications, ', '),
  NULL, ARRAY['DROP SUBSCRIPTION ' || quote_ident(s.subname)], 'late', false
FROM pg_subscription s
WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND NOT (SELECT scratch FROM ns)
UNION ALL
SELECT 'access method', a.amname::text, NULL::text,
  'TYPE ' || CASE a.amtype WHEN 'i' THEN 'INDEX' ELSE 'TABLE' END || ' HANDLER ' || a.amhandler::regproc,
  ARRAY['CREATE ACCESS METHOD ' || quote_ident(a.amname) || ' TYPE '
    || CASE a.amtype WHEN 'i' THEN 'INDEX' ELSE 'TABLE' END || ' HANDLER ' || a.amhandler::regproc],
  ARRAY['DROP ACCESS METHOD ' || quote_ident(a.amname)], 'functions', false
FROM pg_am a
WHERE a.oid >= 16384 AND NOT (SELECT scratch FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_am'::regclass
    AND x.objid = a.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'language', l.lanname::text, NULL::text,
  concat_ws(', ', CASE WHEN l.lanpltrusted THEN 'trusted' END, 'handler ' || nullif(l.lanplcallfoid, 0)::regproc),
  NULL, ARRAY['DROP LANGUAGE ' || quote_ident(l.lanname)], 'early', false
FROM pg_language l
WHERE l.oid >= 16384 AND l.lanname <> 'plpgsql' AND NOT (SELECT scratch FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_language'::regclass
    AND x.objid = l.oid AND x.deptype IN ('e', 'i'))
UNION ALL
SELECT 'transform', 'for ' || format_type(t.trftype, NULL) || ' language ' || l.lanname, NULL::text,
  concat_ws(', ', 'FROM SQL WITH FUNCTION ' || nullif(t.trffromsql, 0)::regprocedure,
    'TO SQL WITH FUNCTION ' || nullif(t.trftosql, 0)::regprocedure),
  NULL, ARRAY['DROP TRANSFORM FOR ' || format_type(t.trftype, NULL) || ' LANGUAGE ' || quote_ident(l.lanname)],
  'functions', false
FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang
WHERE NOT (SELECT scratch FROM ns)
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_transform'::regclass
    AND x.objid = t.oid AND x.deptype IN ('e', 'i'))
