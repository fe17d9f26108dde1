#include "live_schema.h"

#include <cstdlib>
#include <iterator>
#include <string>
#include <thread>

namespace vouch {
namespace {

// Objects in user schemas only.
#define VOUCH_USER_NS(n)                                                                                        \
  " " n ".nspname NOT IN ('pg_catalog', 'information_schema') AND " n ".nspname NOT LIKE 'pg\\_toast%' AND " n \
  ".nspname NOT LIKE 'pg\\_temp\\_%' "
// Not a member of an extension (pg_dump leaves those to CREATE EXTENSION):
// the members are listed once (VOUCH_EXT_MEMBERS, which starts the query),
// not by a scan of pg_depend in each branch (at 100,000 tables pg_depend has
// some 500,000 rows).
#define VOUCH_EXT_MEMBERS \
  "WITH vouch_ext AS MATERIALIZED (SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e') "
#define VOUCH_NOT_EXT(expr, catalog) \
  " " expr " NOT IN (SELECT e.objid FROM vouch_ext e WHERE e.classid = 'pg_catalog." catalog "'::pg_catalog.regclass) "
// Not a function made with another object (a range type's constructors),
// which pg_dump leaves to that object.
#define VOUCH_NOT_INTERNAL(expr)                                                                           \
  "AND " expr " NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'" \
  "::pg_catalog.regclass AND d.deptype = 'i') "
// Where pg_dump dumps grants: the user schemas, and pg_catalog, whose
// objects' grants it dumps where they differ from their initial ones.
#define VOUCH_ACL_NS(n) " (" n ".nspname = 'pg_catalog' OR" VOUCH_USER_NS(n) ") "
#define VOUCH_HAS_PARENT(expr) " " expr " IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i) "
// An ACL's items as sorted text, to tell an ACL from its default whatever
// the order of its items.
#define VOUCH_ACL_TEXT(acl) "(SELECT pg_catalog.string_agg(x::text, ',' ORDER BY x::text) FROM pg_catalog.unnest(" acl ") x)"

// A row of kSchemaObjects that is a table's column order, not an object.
constexpr int kColumnOrderRow = 16;

// Each row: name, text (NULL: compared by presence across source kinds),
// exact text (NULL: the text, which is then all the catalogs say of it: a
// constraint's definition, not worked out twice), flags (SchemaObject::Flags: 4 of a child table, 8 cluster-wide;
// kColumnOrderRow: "schema.table" and its column names in attnum order).
// The texts are only hashed, never kept.
const char* const kSchemaObjects = VOUCH_EXT_MEMBERS
    // Tables, views, materialized views.
    "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATVIEW ' ELSE 'TABLE ' END || n.nspname || '.' || "
    "c.relname, "
    "  CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.rtrim(pg_catalog.pg_get_viewdef(c.oid), ';') END, "
    "  c.relkind::text || ' ' || c.relpersistence::text || ' bound=' || COALESCE(pg_catalog.pg_get_expr(c.relpartbound, c.oid), '') "
    "  || ' key=' || COALESCE(pg_catalog.pg_get_partkeydef(c.oid), '') || ' options=' || COALESCE(c.reloptions::text, '') "
    "  || ' parents=' || COALESCE(p.parents, '') || ' am=' || COALESCE(am.amname, '') "
    "  || CASE WHEN c.relkind IN ('v', 'm') THEN ' ' || pg_catalog.pg_get_viewdef(c.oid) ELSE '' END, 0 "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam "
    "LEFT JOIN (SELECT i.inhrelid, pg_catalog.string_agg(i.inhparent::pg_catalog.regclass::text, ',' ORDER BY "
    "i.inhseqno) AS parents FROM pg_catalog.pg_inherits i GROUP BY i.inhrelid) p ON p.inhrelid = c.oid "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND" VOUCH_USER_NS("n") "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    // Columns, by name.
    "UNION ALL SELECT 'COLUMN ' || n.nspname || '.' || c.relname || '.' || a.attname, NULL, "
    "  pg_catalog.format_type(a.atttypid, a.atttypmod) || ' collation=' || CASE WHEN a.attcollation <> t.typcollation "
    "  THEN a.attcollation::pg_catalog.regcollation::text ELSE '' END || ' notnull=' || a.attnotnull || ' default=' "
    "  || COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '') || ' generated=' || a.attgenerated::text "
    "  || ' identity=' || a.attidentity::text, "
    "  CASE WHEN" VOUCH_HAS_PARENT("c.oid") "OR NOT a.attislocal OR c.reloftype <> 0 THEN 4 ELSE 0 END "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    // Each table's column names in its own order (SchemaCatalog::column_orders).
    "UNION ALL SELECT n.nspname || '.' || c.relname, NULL, pg_catalog.string_agg(a.attname::text, E'\\n' ORDER BY "
    "a.attnum), 16 "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("c.oid", "pg_class") "GROUP BY n.nspname, c.relname";
// The rest, the second of the two halves (run on a connection of its own
// where there is one: ReadLiveSchema).
const char* const kSchemaObjectsRest = VOUCH_EXT_MEMBERS
    // Constraints of tables and domains. Not the foreign keys the server
    // derives from a partitioned table's (conparentid: on each partition of
    // the referencing table, and per partition of a referenced partitioned
    // table): pg_dump leaves them out, the server makes them again with
    // names of its choosing when the parent key is created, and they cannot
    // be dropped or renamed on their own.
    "SELECT 'CONSTRAINT ' || n.nspname || '.' || COALESCE(c.relname, ty.typname) || '.' || co.conname, "
    "  pg_catalog.pg_get_constraintdef(co.oid), NULL, "
    "  CASE WHEN COALESCE(c.oid" VOUCH_HAS_PARENT("") ", false) OR NOT co.conislocal THEN 4 ELSE 0 END "
    "FROM pg_catalog.pg_constraint co "
    "LEFT JOIN pg_catalog.pg_class c ON c.oid = co.conrelid AND co.conrelid <> 0 "
    "LEFT JOIN pg_catalog.pg_type ty ON ty.oid = co.contypid AND co.contypid <> 0 "
    "JOIN pg_catalog.pg_namespace n ON n.oid = COALESCE(c.relnamespace, ty.typnamespace) "
    "WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND (c.oid IS NOT NULL OR ty.oid IS NOT NULL) "
    "AND NOT (co.contype = 'f' AND co.conparentid <> 0) AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("COALESCE(c.oid, 0)", "pg_class") "AND" VOUCH_NOT_EXT("COALESCE(ty.oid, 0)", "pg_type")
    // Indexes that are not a constraint's (pg_dump prints those as the constraint).
    "UNION ALL SELECT 'INDEX ' || n.nspname || '.' || ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid), "
    "  pg_catalog.pg_get_indexdef(i.indexrelid) || ' clustered=' || i.indisclustered || ' replident=' || "
    "i.indisreplident, 0 "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'm') AND (i.indisvalid OR ic.relkind = 'I') AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    "AND i.indexrelid NOT IN (SELECT k.conindid FROM pg_catalog.pg_constraint k WHERE k.contype IN ('p', 'u', 'x')) "
    // Functions and procedures: their body compares across source kinds.
    "UNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || n.nspname || '.' || p.proname "
    "  || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', "
    "  CASE WHEN p.prosqlbody IS NOT NULL THEN 'sqlbody:' || pg_catalog.pg_get_function_sqlbody(p.oid) "
    "  WHEN p.probin IS NOT NULL THEN NULL ELSE 'body:' || p.prosrc END, pg_catalog.pg_get_functiondef(p.oid), 0 "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "WHERE p.prokind IN ('f', 'p', 'w') AND" VOUCH_USER_NS("n") "AND" VOUCH_NOT_EXT("p.oid", "pg_proc") VOUCH_NOT_INTERNAL("p.oid")
    // Triggers, with their enabled state as pg_dump prints it.
    "UNION ALL SELECT 'TRIGGER ' || n.nspname || '.' || c.relname || '.' || t.tgname, "
    "  pg_catalog.pg_get_triggerdef(t.oid, false) || E'\\nenabled=' || t.tgenabled::text, "
    "  pg_catalog.pg_get_triggerdef(t.oid, false) || E'\\nenabled=' || t.tgenabled::text, "
    "  CASE WHEN t.tgparentid <> 0 OR" VOUCH_HAS_PARENT("c.oid") "THEN 4 ELSE 0 END "
    "FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT t.tgisinternal AND" VOUCH_USER_NS("n") "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    // Policies, worded as pg_dump words them.
    "UNION ALL SELECT 'POLICY ' || n.nspname || '.' || c.relname || '.' || pol.polname, s.def, s.def, 0 "
    "FROM pg_catalog.pg_policy pol JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, LATERAL (SELECT 'CREATE POLICY ' || "
    "  pg_catalog.quote_ident(pol.polname) || ' ON ' || pg_catalog.quote_ident(n.nspname) || '.' || "
    "  pg_catalog.quote_ident(c.relname) || CASE WHEN pol.polpermissive THEN '' ELSE ' AS RESTRICTIVE' END "
    "  || CASE pol.polcmd WHEN 'r' THEN ' FOR SELECT' WHEN 'a' THEN ' FOR INSERT' WHEN 'w' THEN ' FOR UPDATE' "
    "  WHEN 'd' THEN ' FOR DELETE' ELSE '' END "
    "  || CASE WHEN pol.polroles = '{0}' THEN '' ELSE ' TO ' || pg_catalog.array_to_string(ARRAY(SELECT "
    "  pg_catalog.quote_ident(rolname) FROM pg_catalog.pg_roles WHERE oid = ANY(pol.polroles)), ', ') END "
    "  || COALESCE(' USING (' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) || ')', '') "
    "  || COALESCE(' WITH CHECK (' || pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) || ')', '') AS def) s "
    "WHERE" VOUCH_USER_NS("n")
    // Row-level security enabled or forced.
    "UNION ALL SELECT 'RLS ' || n.nspname || '.' || c.relname, "
    "  'enabled=' || c.relrowsecurity || ' forced=' || c.relforcerowsecurity, "
    "  'enabled=' || c.relrowsecurity || ' forced=' || c.relforcerowsecurity, 0 "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE (c.relrowsecurity OR c.relforcerowsecurity) AND" VOUCH_USER_NS("n")
    // Types: enums (their labels compare across source kinds), composite,
    // range and base types, domains, and shell types (CREATE TYPE t; left
    // undefined, which pg_dump dumps too).
    "UNION ALL SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || n.nspname || '.' || t.typname, "
    "  CASE WHEN t.typtype = 'e' THEN 'enum:' || COALESCE(e.labels, '') END, "
    "  t.typtype::text || ' base=' || CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) "
    "  ELSE '' END || ' notnull=' || t.typnotnull || ' default=' || COALESCE(t.typdefault, '') || ' collation=' || "
    "  CASE WHEN t.typcollation <> 0 THEN t.typcollation::pg_catalog.regcollation::text ELSE '' END || ' labels=' || "
    "  COALESCE(e.labels, '') || ' attributes=' || COALESCE(ca.attrs, '') || ' subtype=' || "
    "  COALESCE(r.rngsubtype::pg_catalog.regtype::text, ''), 0 "
    "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "LEFT JOIN (SELECT enumtypid, pg_catalog.string_agg(enumlabel::text, E'\\n' ORDER BY enumsortorder) AS labels "
    "  FROM pg_catalog.pg_enum GROUP BY enumtypid) e ON e.enumtypid = t.oid "
    "LEFT JOIN pg_catalog.pg_class tc ON tc.oid = t.typrelid "
    "LEFT JOIN (SELECT a.attrelid, pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, "
    "  a.atttypmod), ', ' ORDER BY a.attnum) AS attrs FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class k "
    "  ON k.oid = a.attrelid WHERE k.relkind = 'c' AND a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid) ca "
    "  ON ca.attrelid = t.typrelid "
    "LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid "
    "WHERE (t.typtype IN ('b', 'c', 'd', 'e', 'r') AND t.typisdefined OR t.typtype = 'p' AND NOT t.typisdefined) "
    "AND (t.typtype <> 'c' OR tc.relkind = 'c') "
    "AND t.oid NOT IN (SELECT a.typarray FROM pg_catalog.pg_type a) AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("t.oid", "pg_type")
    // Schemas, extensions, collations.
    "UNION ALL SELECT 'SCHEMA ' || n.nspname, NULL, 'owner=' || pg_catalog.pg_get_userbyid(n.nspowner), 0 "
    "FROM pg_catalog.pg_namespace n WHERE n.oid >= 16384 AND" VOUCH_USER_NS("n")
    "AND" VOUCH_NOT_EXT("n.oid", "pg_namespace")
    "UNION ALL SELECT 'EXTENSION ' || x.extname, 'schema=' || n.nspname, 'schema=' || n.nspname || ' version=' || "
    "x.extversion, 0 FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace "
    "WHERE x.oid >= 16384 "
    "UNION ALL SELECT 'COLLATION ' || n.nspname || '.' || co.collname, NULL, "
    "(pg_catalog.to_jsonb(co) - 'oid' - 'collnamespace' - 'collowner')::text, 0 "
    "FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace "
    "WHERE co.oid >= 16384 AND" VOUCH_USER_NS("n") "AND" VOUCH_NOT_EXT("co.oid", "pg_collation")
    // Grants: every ACL that differs from the object's initial one, as
    // pg_dump dumps them (pg_catalog's objects' too).
    "UNION ALL SELECT 'ACL ' || CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || n.nspname || '.' || "
    "c.relname, NULL, " VOUCH_ACL_TEXT("c.relacl") ", 0 "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_init_privs ip ON ip.objoid = c.oid AND ip.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "  AND ip.objsubid = 0 "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relacl IS NOT NULL AND" VOUCH_ACL_NS("n")
    "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    "AND " VOUCH_ACL_TEXT("c.relacl") " IS DISTINCT FROM " VOUCH_ACL_TEXT(
        "COALESCE(ip.initprivs, pg_catalog.acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", "
        "c.relowner))") " "
    "UNION ALL SELECT 'ACL COLUMN ' || n.nspname || '.' || c.relname || '.' || a.attname, NULL, "
    VOUCH_ACL_TEXT("a.attacl") ", 0 "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_init_privs ip ON ip.objoid = c.oid AND ip.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "  AND ip.objsubid = a.attnum "
    "WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND" VOUCH_ACL_NS("n")
    "AND" VOUCH_NOT_EXT("c.oid", "pg_class")
    "AND " VOUCH_ACL_TEXT("a.attacl") " IS DISTINCT FROM " VOUCH_ACL_TEXT("ip.initprivs") " "
    "UNION ALL SELECT 'ACL ' || CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || n.nspname || '.' || "
    "p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', NULL, " VOUCH_ACL_TEXT("p.proacl") ", 0 "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "LEFT JOIN pg_catalog.pg_init_privs ip ON ip.objoid = p.oid AND ip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
    "WHERE p.proacl IS NOT NULL AND" VOUCH_ACL_NS("n") "AND" VOUCH_NOT_EXT("p.oid", "pg_proc") VOUCH_NOT_INTERNAL("p.oid")
    "AND " VOUCH_ACL_TEXT("p.proacl") " IS DISTINCT FROM " VOUCH_ACL_TEXT(
        "COALESCE(ip.initprivs, pg_catalog.acldefault('f', p.proowner))") " "
    "UNION ALL SELECT 'ACL SCHEMA ' || n.nspname, NULL, " VOUCH_ACL_TEXT("n.nspacl") ", 0 "
    "FROM pg_catalog.pg_namespace n "
    "LEFT JOIN pg_catalog.pg_init_privs ip ON ip.objoid = n.oid AND ip.classoid = "
    "'pg_catalog.pg_namespace'::pg_catalog.regclass "
    "WHERE n.nspacl IS NOT NULL AND" VOUCH_ACL_NS("n") "AND" VOUCH_NOT_EXT("n.oid", "pg_namespace")
    "AND " VOUCH_ACL_TEXT("n.nspacl") " IS DISTINCT FROM " VOUCH_ACL_TEXT(
        "COALESCE(ip.initprivs, pg_catalog.acldefault('n', n.nspowner))") " "
    "UNION ALL SELECT 'ACL ' || CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || n.nspname || '.' || "
    "t.typname, NULL, " VOUCH_ACL_TEXT("t.typacl") ", 0 "
    "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "LEFT JOIN pg_catalog.pg_init_privs ip ON ip.objoid = t.oid AND ip.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass "
    "WHERE t.typacl IS NOT NULL AND" VOUCH_ACL_NS("n") "AND" VOUCH_NOT_EXT("t.oid", "pg_type")
    "AND " VOUCH_ACL_TEXT("t.typacl") " IS DISTINCT FROM " VOUCH_ACL_TEXT(
        "COALESCE(ip.initprivs, pg_catalog.acldefault('T', t.typowner))") " "
    // Cluster-wide: roles (attributes as pg_dumpall prints them, never a
    // password), memberships, tablespaces, settings.
    "UNION ALL SELECT 'ROLE ' || r.rolname, s.attrs, s.attrs || ' valid_until=' || COALESCE(r.rolvaliduntil::text, ''), 8 "
    "FROM pg_catalog.pg_roles r, LATERAL (SELECT CASE WHEN r.rolsuper THEN 'SUPERUSER' ELSE 'NOSUPERUSER' END "
    "  || CASE WHEN r.rolinherit THEN ' INHERIT' ELSE ' NOINHERIT' END "
    "  || CASE WHEN r.rolcreaterole THEN ' CREATEROLE' ELSE ' NOCREATEROLE' END "
    "  || CASE WHEN r.rolcreatedb THEN ' CREATEDB' ELSE ' NOCREATEDB' END "
    "  || CASE WHEN r.rolcanlogin THEN ' LOGIN' ELSE ' NOLOGIN' END "
    "  || CASE WHEN r.rolreplication THEN ' REPLICATION' ELSE ' NOREPLICATION' END "
    "  || CASE WHEN r.rolbypassrls THEN ' BYPASSRLS' ELSE ' NOBYPASSRLS' END "
    "  || CASE WHEN r.rolconnlimit <> -1 THEN ' CONNECTION LIMIT ' || r.rolconnlimit ELSE '' END AS attrs) s "
    "WHERE r.rolname !~ '^pg_' "
    "UNION ALL SELECT 'MEMBERSHIP ' || r.rolname || ' ' || u.rolname, 'admin=' || m.admin_option, "
    "  'admin=' || m.admin_option, 8 "
    "FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid "
    "JOIN pg_catalog.pg_roles u ON u.oid = m.member WHERE NOT (r.rolname ~ '^pg_' AND u.rolname ~ '^pg_') "
    "UNION ALL SELECT 'TABLESPACE ' || spcname, 'owner=' || pg_catalog.pg_get_userbyid(spcowner), "
    "  'owner=' || pg_catalog.pg_get_userbyid(spcowner) || ' options=' || COALESCE(spcoptions::text, ''), 8 "
    "FROM pg_catalog.pg_tablespace WHERE spcname !~ '^pg_' "
    "UNION ALL SELECT 'SETTING ROLE ' || r.rolname || ' ' || pg_catalog.split_part(cfg, '=', 1), NULL, cfg, 8 "
    "FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole, "
    "pg_catalog.unnest(s.setconfig) cfg WHERE s.setdatabase = 0 "
    "UNION ALL SELECT 'SETTING DATABASE ' || pg_catalog.split_part(cfg, '=', 1), NULL, cfg, 8 "
    "FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) cfg "
    "WHERE s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
    "pg_catalog.current_database()) "
    // ALTER ROLE r IN DATABASE d SET: settings of this database too (pg_dump
    // --create writes them with ALTER DATABASE's).
    "UNION ALL SELECT 'SETTING DATABASE ROLE ' || r.rolname || ' ' || pg_catalog.split_part(cfg, '=', 1), NULL, cfg, 8 "
    "FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole, "
    "pg_catalog.unnest(s.setconfig) cfg WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE "
    "datname = pg_catalog.current_database())";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status Exec(PGconn* pg, const std::string& sql, const std::string& where) {
  PGresult* r = PQexec(pg, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return ConnectionError(where + ": cannot read the schema objects: " + Trim(PQerrorMessage(pg)));
  }
  return Status::Ok();
}

}  // namespace

namespace {

// The rows of `query` into *out, through a cursor: at 100,000 tables the
// rows (columns, constraints) would be hundreds of MB as one result; only
// their fingerprints are kept. Every row is fetched, so it is planned for
// all of them (a cursor's default, cursor_tuple_fraction 0.1, picks plans
// that start fast and run several times longer in all at 100,000 tables).
Status ReadObjects(PGconn* pg, const char* query, const std::string& where, SchemaCatalog* out) {
  VOUCH_RETURN_IF_ERROR(Exec(pg, "SELECT pg_catalog.set_config('cursor_tuple_fraction', '1', true)", where));
  VOUCH_RETURN_IF_ERROR(Exec(pg, std::string("DECLARE vouch_schema NO SCROLL CURSOR FOR ") + query, where));
  while (true) {
    PGresult* r = PQexec(pg, "FETCH 20000 FROM vouch_schema");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = Trim(PQerrorMessage(pg));
      PQclear(r);
      return ConnectionError(where + ": cannot read the schema objects: " + err);
    }
    const int n = PQntuples(r);
    for (int i = 0; i < n; ++i) {
      const int flags = std::atoi(PQgetvalue(r, i, 3));
      if (flags == kColumnOrderRow) {
        out->column_orders.emplace_back(
            PQgetvalue(r, i, 0),
            FingerprintOf(std::string_view(PQgetvalue(r, i, 2), static_cast<size_t>(PQgetlength(r, i, 2)))));
        continue;
      }
      SchemaObject& o = out->Add(std::string_view(PQgetvalue(r, i, 0), static_cast<size_t>(PQgetlength(r, i, 0))));
      if (!PQgetisnull(r, i, 1)) {
        o.text = FingerprintOf(std::string_view(PQgetvalue(r, i, 1), static_cast<size_t>(PQgetlength(r, i, 1))));
        o.flags |= SchemaObject::kHasText;
      }
      o.exact = PQgetisnull(r, i, 2) && o.Has(SchemaObject::kHasText)
                    ? o.text
                    : FingerprintOf(std::string_view(PQgetvalue(r, i, 2), static_cast<size_t>(PQgetlength(r, i, 2))));
      o.flags |= SchemaObject::kHasExact;
      o.flags |= static_cast<uint8_t>(flags);
    }
    PQclear(r);
    if (n == 0) break;
  }
  return Exec(pg, "CLOSE vouch_schema", where);
}

}  // namespace

Status ReadLiveSchema(PGconn* pg, PGconn* second, const std::string& where, SchemaCatalog* out) {
  out->origin = "database";
  out->has_database_objects = true;
  out->has_cluster_objects = true;
  out->has_database_settings = true;
  // The two halves of the objects, one after the other, or at once on two
  // connections (the server works out each half's definitions on a core of
  // its own).
  SchemaCatalog rest;
  Status rest_status;
  std::thread other;
  if (second != nullptr) {
    other = std::thread([&] { rest_status = ReadObjects(second, kSchemaObjectsRest, where, &rest); });
  }
  Status st = ReadObjects(pg, kSchemaObjects, where, out);
  if (other.joinable()) {
    other.join();
  } else if (st.ok()) {
    rest_status = ReadObjects(pg, kSchemaObjectsRest, where, &rest);
  }
  VOUCH_RETURN_IF_ERROR(st);
  VOUCH_RETURN_IF_ERROR(rest_status);
  out->Append(std::move(rest));
  out->Finish();
  return Status::Ok();
}

}  // namespace vouch
