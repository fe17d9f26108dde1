// DumpSchemaCollector and the pg_dumpall globals parser on DDL as pg_dump and
// pg_dumpall 15 print it (texts copied from their output).
#include "vouch/readers/schema_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vouch {
namespace {

const SchemaObject* Find(const SchemaCatalog& c, const std::string& name) {
  auto it = std::find_if(c.objects.begin(), c.objects.end(), [&](const SchemaObject& o) { return o.name == name; });
  return it == c.objects.end() ? nullptr : &*it;
}

TEST(DumpSchemaCollector, TextsAreThoseTheCatalogFunctionsPrint) {
  DumpSchemaCollector c;
  c.AddEntry("FUNCTION", "app", "touch()",
             "CREATE FUNCTION app.touch() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $_$\nBEGIN\n  NEW.x := 1;  -- $$\n"
             "  RETURN NEW;\nEND\n$_$;\n");
  c.AddEntry("FUNCTION", "app", "std_body(integer)",
             "CREATE FUNCTION app.std_body(x integer) RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT (x * "
             "2);\nEND;\n");
  c.AddEntry("VIEW", "app", "checked",
             "CREATE VIEW app.checked AS\n SELECT customers.id\n   FROM app.customers\n  WHERE (customers.score > "
             "(0)::numeric)\n  WITH CASCADED CHECK OPTION;\n");
  c.AddEntry("TRIGGER", "app", "customers customers_touch2",
             "CREATE TRIGGER customers_touch2 BEFORE UPDATE ON app.customers FOR EACH ROW EXECUTE FUNCTION "
             "app.touch();\n\nALTER TABLE app.customers DISABLE TRIGGER customers_touch2;\n");
  c.AddEntry("CONSTRAINT", "Mixed Case", "Odd Table Odd Table_pkey",
             "ALTER TABLE ONLY \"Mixed Case\".\"Odd Table\"\n    ADD CONSTRAINT \"Odd Table_pkey\" PRIMARY KEY "
             "(\"x\"\"y\");\n");
  c.AddEntry("TABLE", "app", "child",
             "CREATE TABLE app.child (\n    id integer,\n    \"Label\" text,\n    CONSTRAINT c_check CHECK ((id > "
             "0))\n)\nINHERITS (app.base);\n");
  c.AddEntry("TYPE", "app", "mood", "CREATE TYPE app.mood AS ENUM (\n    'sad',\n    'it''s ok'\n);\n");
  c.AddEntry("ACL", "app", "FUNCTION \"Odd F\"(a integer)", "GRANT ALL ON FUNCTION ...;\n");
  SchemaCatalog s = c.Finish();
  EXPECT_TRUE(s.has_database_objects);
  const SchemaObject* f = Find(s, "FUNCTION app.touch()");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->text, FingerprintOf("body:\nBEGIN\n  NEW.x := 1;  -- $$\n  RETURN NEW;\nEND\n"));
  const SchemaObject* sb = Find(s, "FUNCTION app.std_body(integer)");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->text, FingerprintOf("sqlbody:BEGIN ATOMIC\n SELECT (x * 2);\nEND"));
  const SchemaObject* v = Find(s, "VIEW app.checked");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->text, FingerprintOf(" SELECT customers.id\n   FROM app.customers\n  WHERE (customers.score > (0)::numeric)"));
  const SchemaObject* t = Find(s, "TRIGGER app.customers.customers_touch2");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->text, FingerprintOf("CREATE TRIGGER customers_touch2 BEFORE UPDATE ON app.customers FOR EACH ROW "
                                   "EXECUTE FUNCTION app.touch()\nenabled=D"));
  const SchemaObject* k = Find(s, "CONSTRAINT Mixed Case.Odd Table.Odd Table_pkey");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->text, FingerprintOf("PRIMARY KEY (\"x\"\"y\")"));
  ASSERT_NE(Find(s, "COLUMN app.child.Label"), nullptr);
  EXPECT_TRUE(Find(s, "COLUMN app.child.Label")->Has(SchemaObject::kOfChildTable));
  const SchemaObject* cc = Find(s, "CONSTRAINT app.child.c_check");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ(cc->text, FingerprintOf("CHECK ((id > 0))"));
  const SchemaObject* e = Find(s, "TYPE app.mood");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->text, FingerprintOf("enum:sad\nit's ok"));
  EXPECT_NE(Find(s, "ACL FUNCTION app.Odd F(a integer)"), nullptr);
}

// pg_dump appends a materialized view's and an index's column settings
// (SET COMPRESSION, SET STORAGE, SET STATISTICS) to the same entry, on the
// line after the statement: they are no part of the pg_get_*def text.
TEST(DumpSchemaCollector, ColumnSettingsAfterTheStatementAreNotItsText) {
  DumpSchemaCollector c;
  c.AddEntry("MATERIALIZED VIEW", "public", "compressmv",
             "CREATE MATERIALIZED VIEW public.compressmv AS\n SELECT cmdata1.f1 AS x\n   FROM public.cmdata1\n  WITH NO "
             "DATA;\nALTER TABLE ONLY public.compressmv ALTER COLUMN x SET COMPRESSION lz4;\n");
  c.AddEntry("INDEX", "public", "st_idx",
             "CREATE INDEX st_idx ON public.st USING btree (a, ((a + 1)));\nALTER INDEX public.st_idx ALTER COLUMN 2 SET "
             "STATISTICS 1000;\n");
  SchemaCatalog s = c.Finish();
  const SchemaObject* mv = Find(s, "MATVIEW public.compressmv");
  ASSERT_NE(mv, nullptr);
  EXPECT_EQ(mv->text, FingerprintOf(" SELECT cmdata1.f1 AS x\n   FROM public.cmdata1"));
  const SchemaObject* i = Find(s, "INDEX public.st_idx");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->text, FingerprintOf("CREATE INDEX st_idx ON public.st USING btree (a, ((a + 1)))"));
}

// A typed table's columns come from its type; pg_dump lists those with
// options only. The database side flags every column of a typed table as a
// child table's, so the dump's must be flagged too (else the schema hashes
// of a database and its dump differ).
TEST(DumpSchemaCollector, TypedTableColumnsAreFlaggedAsInherited) {
  DumpSchemaCollector c;
  c.AddEntry("TABLE", "public", "persons3",
             "CREATE TABLE public.persons3 OF public.person_type (\n    id NOT NULL,\n    name DEFAULT ''::text NOT "
             "NULL\n);\n");
  c.AddEntry("TABLE", "public", "plain", "CREATE TABLE public.plain (\n    id integer NOT NULL\n);\n");
  SchemaCatalog s = c.Finish();
  for (const char* col : {"COLUMN public.persons3.id", "COLUMN public.persons3.name"}) {
    ASSERT_NE(Find(s, col), nullptr) << col;
    EXPECT_TRUE(Find(s, col)->Has(SchemaObject::kOfChildTable)) << col;
  }
  ASSERT_NE(Find(s, "COLUMN public.plain.id"), nullptr);
  EXPECT_FALSE(Find(s, "COLUMN public.plain.id")->Has(SchemaObject::kOfChildTable));
}

TEST(DumpSchemaCollector, DataOnlyDumpHasNoSchema) {
  DumpSchemaCollector c;
  c.AddEntry("TABLE DATA", "public", "t", "");
  c.AddEntry("SEQUENCE SET", "public", "s", "SELECT pg_catalog.setval('public.s', 1, false);\n");
  EXPECT_FALSE(c.Finish().has_database_objects);
}

// A dump made with --create holds its database's settings; its globals file
// holds the roles. Merging the globals keeps the dump's settings (they were
// lost, and a drill against a database with --restored-globals reported
// every ALTER DATABASE ... SET of PostgreSQL's regression database missing).
// The names live in the catalog's arena: they outlive the catalog they were
// read into when its objects move to another (a database's two halves, read
// on two connections) or are merged from a globals file, and a copy shares
// them. A name longer than an arena block gets a block of its own.
TEST(SchemaCatalog, NamesOutliveTheCatalogTheyCameFrom) {
  const std::string long_name = "TABLE public." + std::string(100000, 'x');
  SchemaCatalog first;
  first.Add("TABLE public.b");
  {
    SchemaCatalog second;
    for (int i = 0; i < 5000; ++i) second.Add("COLUMN public.a.column_" + std::to_string(i));
    second.Add(long_name);
    first.Append(std::move(second));
  }
  {
    SchemaCatalog globals;
    globals.Add("ROLE alice").flags = SchemaObject::kCluster;
    SchemaCatalog shared = globals;  // Append copies the names of a shared catalog
    first.Append(std::move(shared));
    first.MergeCluster(globals);
  }
  first.Add("TABLE public.a");
  first.Finish();
  ASSERT_EQ(first.objects.size(), 5000u + 4u);
  EXPECT_EQ(first.objects[0].name, "COLUMN public.a.column_0");
  EXPECT_EQ(first.objects[4999].name, "COLUMN public.a.column_999");
  EXPECT_EQ(first.objects[5000].name, "ROLE alice");
  EXPECT_EQ(first.objects[5001].name, "TABLE public.a");
  EXPECT_EQ(first.objects[5002].name, "TABLE public.b");
  EXPECT_EQ(first.objects[5003].name, long_name);
  const SchemaCatalog copy = first;
  first = SchemaCatalog();
  EXPECT_EQ(copy.objects[5003].name, long_name);
  EXPECT_NE(Find(copy, "COLUMN public.a.column_4999"), nullptr);
}

TEST(Globals, MergingKeepsTheDumpsOwnDatabaseSettings) {
  DumpSchemaCollector c;
  c.AddEntry("DATABASE", "", "regression", "CREATE DATABASE regression WITH TEMPLATE = template0;\n");
  c.AddEntry("DATABASE PROPERTIES", "", "regression",
             "ALTER DATABASE regression SET lc_messages TO 'C';\nALTER DATABASE regression SET bytea_output TO 'hex';\n");
  c.AddEntry("TABLE", "public", "t", "CREATE TABLE public.t (\n    id integer\n);\n");
  SchemaCatalog dump = c.Finish();
  ASSERT_NE(Find(dump, "SETTING DATABASE lc_messages"), nullptr);
  auto g = ParseGlobalsText("--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE alice;\n", "globals.sql");
  ASSERT_TRUE(g.ok()) << g.status().message();
  dump.MergeCluster(*g);
  EXPECT_TRUE(dump.has_cluster_objects);
  EXPECT_TRUE(dump.has_database_settings);
  EXPECT_NE(Find(dump, "ROLE alice"), nullptr);
  EXPECT_NE(Find(dump, "SETTING DATABASE lc_messages"), nullptr);
  EXPECT_NE(Find(dump, "SETTING DATABASE bytea_output"), nullptr);
  EXPECT_NE(Find(dump, "TABLE public.t"), nullptr);
}

TEST(Globals, RolesWithoutPasswordsMembershipsTablespacesSettings) {
  const std::string text =
      "--\n-- PostgreSQL database cluster dump\n--\n\n\\restrict abc\nSET default_transaction_read_only = off;\n"
      "CREATE ROLE alice;\n"
      "ALTER ROLE alice WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS "
      "CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256$4096:secret' VALID UNTIL '2030-01-01 00:00:00+00';\n"
      "CREATE ROLE \"Ops Team\";\n"
      "ALTER ROLE \"Ops Team\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;\n"
      "ALTER ROLE alice SET search_path TO 'app', 'public';\n"
      "GRANT \"Ops Team\" TO alice WITH ADMIN OPTION GRANTED BY postgres;\n"
      "CREATE TABLESPACE fast OWNER alice LOCATION '/srv/fast';\n"
      "GRANT ALL ON TABLESPACE fast TO alice;\n\\unrestrict abc\n--\n-- PostgreSQL database cluster dump complete\n--\n";
  auto g = ParseGlobalsText(text, "globals.sql");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_TRUE(g->has_cluster_objects);
  const SchemaObject* alice = Find(*g, "ROLE alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->text, FingerprintOf("NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS "
                                       "CONNECTION LIMIT 5"));
  EXPECT_NE(Find(*g, "ROLE Ops Team"), nullptr);
  const SchemaObject* m = Find(*g, "MEMBERSHIP Ops Team alice");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->text, FingerprintOf("admin=true"));
  const SchemaObject* ts = Find(*g, "TABLESPACE fast");
  ASSERT_NE(ts, nullptr);
  EXPECT_EQ(ts->text, FingerprintOf("owner=alice"));
  EXPECT_NE(Find(*g, "SETTING ROLE alice search_path"), nullptr);
  EXPECT_EQ(g->objects.size(), 5u);
  for (const auto& o : g->objects) EXPECT_TRUE(o.Has(SchemaObject::kCluster)) << o.name;

  auto not_globals = ParseGlobalsText("--\n-- PostgreSQL database dump\n--\n", "db.sql");
  EXPECT_FALSE(not_globals.ok());
  EXPECT_NE(not_globals.status().message().find("db.sql: line 2"), std::string::npos)
      << not_globals.status().message();
  EXPECT_FALSE(ParseGlobalsText("", "empty.sql").ok());
  EXPECT_FALSE(ParseGlobalsFile("/nonexistent/globals.sql").ok());
}

}  // namespace
}  // namespace vouch
