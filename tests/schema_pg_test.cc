// Schema objects (issue 18): a database with many kinds of objects
// (tests/data/schema_rich.sql) against its own pg_dump -Fc | pg_restore copy,
// its custom dump and its plain dump shows no difference and one
// SCHEMA_VALIDATION_HASH; each defect applied to a copy of the restored
// database fails the drill with the object named; a pg_restore that failed
// one index build is reported with the index named while the rows match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "render/drill.h"
#include "support/pg_test_env.h"
#include "vouch/engine/drill.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/schema_compare.h"
#include "vouch/engine/source.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

class SchemaPg : public testing::PreparedTest<SchemaPg> {
 protected:
  friend class testing::PreparedTest<SchemaPg>;
  static void Prepare() {
    const char* root = std::getenv("VOUCH_SOURCE_DIR");
    ASSERT_NE(root, nullptr) << "VOUCH_SOURCE_DIR is not set: run the tests through ctest";
    src_ = testing::CreateDatabase("vouch_schema_src");
    auto load = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + src_ + " -f " + std::string(root) +
                           "/tests/data/schema_rich.sql");
    ASSERT_EQ(load.exit_code, 0) << load.err;
    restored_ = testing::CreateDatabase("vouch_schema_restored");
    auto r = RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + restored_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    dir_ = testing::MakeTempDir("vouch_schema");
    auto d = RunCommand("pg_dump -Fc -d " + src_ + " -f " + dir_ + "/src.custom && pg_dump -Fp -d " + src_ +
                        " -f " + dir_ + "/src.sql && pg_dump -Fc --data-only -d " + src_ + " -f " + dir_ +
                        "/data.custom");
    ASSERT_EQ(d.exit_code, 0) << d.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(src_);
    testing::DropDatabase(restored_);
    RunCommand("rm -rf " + dir_);
  }
  // A copy of the restored database with `sql` applied.
  static std::string Defect(const std::string& sql) {
    std::string db = testing::CreateDatabase("vouch_schema_defect");
    auto copy = RunCommand("dropdb " + db + " && createdb -T " + restored_ + " " + db);
    EXPECT_EQ(copy.exit_code, 0) << copy.err;
    auto apply = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " + ShellQuote(sql));
    EXPECT_EQ(apply.exit_code, 0) << apply.err;
    return db;
  }
  static DrillOptions Options() {
    DrillOptions o;
    o.compare.digest.jobs = 2;
    return o;
  }
  static DrillReport Drill(const std::string& source, const std::string& restored, const DrillOptions& o = Options()) {
    auto r = RunDrill(source, restored, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : DrillReport{};
  }
  static std::string Failures(const DrillReport& r) {
    std::string out;
    for (const auto& c : r.checks) {
      if (!c.passed) out += c.section + " / " + c.name + ": " + cli::DrillCheckDetail(r, c) + "\n";
    }
    return out;
  }
  // The failed Schema Objects checks' details, one line each.
  static std::vector<std::string> SchemaFailures(const DrillReport& r) {
    std::vector<std::string> out;
    for (const auto& c : r.checks) {
      if (!c.passed && c.section == "Schema Objects") out.push_back(c.name + ": " + cli::DrillCheckDetail(r, c));
    }
    return out;
  }
  static bool Differs(const DrillReport& r, const std::string& object, SchemaDiffKind kind) {
    return std::any_of(r.schema.differences.begin(), r.schema.differences.end(),
                       [&](const SchemaDifference& d) { return d.name == object && d.kind == kind; });
  }
  // Every check of the drill passed and the schema was compared.
  static void ExpectClean(const DrillReport& r, bool exact) {
    EXPECT_TRUE(r.outcome().Verified()) << Failures(r);
    EXPECT_TRUE(r.schema.compared) << r.schema.not_compared;
    EXPECT_EQ(r.schema.exact, exact);
    EXPECT_TRUE(r.schema.differences.empty());
    EXPECT_EQ(r.source_schema_hash.size(), 64u);
    EXPECT_EQ(r.source_schema_hash, r.restored_schema_hash);
    // The kinds of the rich schema were all seen.
    for (const char* kind : {"ACL", "COLUMN", "CONSTRAINT", "DOMAIN", "EXTENSION", "FUNCTION", "INDEX", "MATVIEW",
                             "POLICY", "PROCEDURE", "RLS", "TABLE", "TRIGGER", "TYPE", "VIEW"}) {
      EXPECT_TRUE(std::any_of(r.schema.kinds.begin(), r.schema.kinds.end(),
                              [&](const SchemaKindComparison& k) { return k.kind == kind && k.compared > 0; }))
          << kind;
    }
  }
  // The restored copy with `sql` applied fails the drill against the source,
  // on the schema only, and names `object` as `kind`.
  // The schema hash differs too unless the object's kind is in the hash by
  // presence only (`in_hash_by_text` false: an ACL).
  static void ExpectDefect(const std::string& sql, const std::string& object, SchemaDiffKind kind,
                           bool in_hash_by_text = true) {
    std::string db = Defect(sql);
    DrillReport r = Drill(testing::DatabaseUri(src_), testing::DatabaseUri(db));
    EXPECT_FALSE(r.outcome().Verified());
    EXPECT_TRUE(Differs(r, object, kind)) << Failures(r);
    bool named = false;
    for (const auto& line : SchemaFailures(r)) named = named || line.find(object) != std::string::npos;
    EXPECT_TRUE(named) << Failures(r);
    for (const auto& t : r.compare.tables) EXPECT_EQ(t.status, TableStatus::kMatch) << t.QualifiedName();
    if (in_hash_by_text) {
      EXPECT_NE(r.source_schema_hash, r.restored_schema_hash);
    }
    EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
    testing::DropDatabase(db);
  }
  static std::string src_, restored_, dir_;
};
std::string SchemaPg::src_, SchemaPg::restored_, SchemaPg::dir_;

TEST_F(SchemaPg, RestoredCopyMatchesExactly) {
  ExpectClean(Drill(testing::DatabaseUri(src_), testing::DatabaseUri(restored_)), /*exact=*/true);
}

// A database and an archive hand their schema objects to the sink while
// the rows are still read (the drill compares them there): once, the same
// objects the report would hold, and the report holds none. A plain dump
// has them only at its end and keeps them in the report.
TEST_F(SchemaPg, ReadersHandTheirSchemaObjectsOverOnce) {
  for (const std::string& spec : {testing::DatabaseUri(src_), dir_ + "/src.custom", dir_ + "/src.sql"}) {
    SCOPED_TRACE(spec);
    DigestOptions kept;
    kept.jobs = 2;
    auto whole = DigestSource(spec, kept);
    ASSERT_TRUE(whole.ok()) << whole.status().message();
    ASSERT_TRUE(whole->schema.has_value());
    int calls = 0;
    SchemaCatalog got;
    DigestOptions handed = kept;
    handed.schema_sink = [&](SchemaCatalog&& c) {
      ++calls;
      got = std::move(c);
    };
    auto r = DigestSource(spec, handed);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->FinalHashHex(), whole->FinalHashHex());
    if (spec.ends_with(".sql")) {
      EXPECT_EQ(calls, 0);
      EXPECT_TRUE(r->schema.has_value());
      continue;
    }
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(r->schema.has_value());
    EXPECT_EQ(SchemaValidationHash(&got, true, true), SchemaValidationHash(&*whole->schema, true, true));
    EXPECT_EQ(got.objects.size(), whole->schema->objects.size());
  }
}

TEST_F(SchemaPg, CustomDumpAgainstTheRestoredCopyHasNoFalseDifference) {
  DrillReport r = Drill(dir_ + "/src.custom", testing::DatabaseUri(restored_));
  ExpectClean(r, /*exact=*/false);
  // Kinds whose dump text no catalog function reproduces are said to be
  // compared by presence; the others compared by text.
  auto presence = r.schema.PresenceKinds();
  EXPECT_NE(std::find(presence.begin(), presence.end(), "COLUMN"), presence.end());
  EXPECT_EQ(std::find(presence.begin(), presence.end(), "INDEX"), presence.end());
  EXPECT_EQ(std::find(presence.begin(), presence.end(), "VIEW"), presence.end());
  EXPECT_FALSE(r.schema.cluster_compared);
}

TEST_F(SchemaPg, PlainDumpAgainstTheRestoredCopyHasNoFalseDifference) {
  DrillReport plain = Drill(dir_ + "/src.sql", testing::DatabaseUri(restored_));
  ExpectClean(plain, /*exact=*/false);
  DrillReport custom = Drill(dir_ + "/src.custom", testing::DatabaseUri(restored_));
  EXPECT_EQ(plain.source_schema_hash, custom.source_schema_hash);
  // A database and its full dump: the same hash (database objects only, the
  // dump having no roles).
  DrillReport live = Drill(testing::DatabaseUri(src_), dir_ + "/src.custom");
  ExpectClean(live, /*exact=*/false);
}

TEST_F(SchemaPg, PolicyOfAPartitionIsComparedAgainstADump) {
  // A partition's own policy is an object of the dump as of the database
  // (no table inherits a policy): in the schema hash of both, and missing
  // from a copy, named against the dump too.
  std::string db = Defect("DROP POLICY events_2024_recent ON app.events_2024; DROP POLICY child_flagged ON app.child");
  for (const std::string& source : {dir_ + "/src.custom", dir_ + "/src.sql"}) {
    DrillReport r = Drill(source, testing::DatabaseUri(db));
    EXPECT_FALSE(r.outcome().Verified());
    EXPECT_TRUE(Differs(r, "POLICY app.events_2024.events_2024_recent", SchemaDiffKind::kMissing)) << Failures(r);
    EXPECT_TRUE(Differs(r, "POLICY app.child.child_flagged", SchemaDiffKind::kMissing)) << Failures(r);
    EXPECT_NE(r.source_schema_hash, r.restored_schema_hash);
  }
  testing::DropDatabase(db);
}

TEST_F(SchemaPg, DataOnlyDumpSaysSchemaNotInThisSource) {
  DrillReport r = Drill(dir_ + "/data.custom", testing::DatabaseUri(restored_));
  EXPECT_FALSE(r.schema.compared);
  EXPECT_NE(r.schema.not_compared.find("schema not in this source"), std::string::npos) << r.schema.not_compared;
  EXPECT_TRUE(r.source_schema_hash.empty());
  EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
  EXPECT_TRUE(r.outcome().Verified()) << Failures(r);
  EXPECT_NE(cli::DrillText(r).find("SCHEMA_VALIDATION_HASH source:   schema not in this source"),
            std::string::npos);
}

TEST_F(SchemaPg, DroppedPrimaryKey) {
  ExpectDefect("ALTER TABLE app.orders DROP CONSTRAINT orders_pkey", "CONSTRAINT app.orders.orders_pkey",
               SchemaDiffKind::kMissing);
}

TEST_F(SchemaPg, MissingIndex) {
  ExpectDefect("DROP INDEX app.orders_amount_partial", "INDEX app.orders_amount_partial", SchemaDiffKind::kMissing);
}

TEST_F(SchemaPg, ForeignKeyLeftNotValid) {
  ExpectDefect(
      "ALTER TABLE app.base DROP CONSTRAINT base_customer_fk; ALTER TABLE app.base ADD CONSTRAINT base_customer_fk "
      "FOREIGN KEY (extra) REFERENCES app.customers(id) NOT VALID",
      "CONSTRAINT app.base.base_customer_fk", SchemaDiffKind::kChanged);
}

TEST_F(SchemaPg, ViewDefinitionChanged) {
  ExpectDefect(
      "CREATE OR REPLACE VIEW app.big_orders AS SELECT o.id, c.name, o.amount FROM app.orders o JOIN app.customers c "
      "ON c.id = o.customer_id WHERE o.amount > 200",
      "VIEW app.big_orders", SchemaDiffKind::kChanged);
}

TEST_F(SchemaPg, FunctionBodyChanged) {
  ExpectDefect("CREATE OR REPLACE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
               "FUNCTION app.noop()", SchemaDiffKind::kChanged);
}

TEST_F(SchemaPg, TriggerDisabled) {
  ExpectDefect("ALTER TABLE app.customers DISABLE TRIGGER customers_touch", "TRIGGER app.customers.customers_touch",
               SchemaDiffKind::kChanged);
}

TEST_F(SchemaPg, GrantMissing) {
  ExpectDefect("REVOKE INSERT ON app.customers FROM vouch_schema_reader", "ACL TABLE app.customers",
               SchemaDiffKind::kChanged, /*in_hash_by_text=*/false);
  ExpectDefect("REVOKE ALL ON app.big_orders FROM vouch_schema_reader", "ACL TABLE app.big_orders",
               SchemaDiffKind::kMissing);
}

// A setting of the restored database that the source lacks, made with
// ALTER DATABASE and with ALTER ROLE ... IN DATABASE, is named.
TEST_F(SchemaPg, DatabaseAndRoleInDatabaseSettings) {
  ExpectDefect(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB'); END $$",
      "SETTING DATABASE work_mem", SchemaDiffKind::kExtra);
  ExpectDefect(
      "DO $$ BEGIN EXECUTE format('ALTER ROLE %I IN DATABASE %I SET statement_timeout = %L', current_user, "
      "current_database(), '5min'); END $$",
      "SETTING DATABASE ROLE vouch statement_timeout", SchemaDiffKind::kExtra);
}

// pg_dump --create writes both kinds of settings; a drill of that dump
// against a database without them names them missing.
TEST_F(SchemaPg, SettingsOfACreateDumpAreRead) {
  std::string db = Defect(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB'); "
      "EXECUTE format('ALTER ROLE %I IN DATABASE %I SET statement_timeout = %L', current_user, current_database(), "
      "'5min'); END $$");
  const std::string dump = dir_ + "/create.custom";
  auto d = RunCommand("pg_dump -Fc --create -d " + db + " -f " + dump);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  DrillReport r = Drill(dump, testing::DatabaseUri(restored_));
  EXPECT_FALSE(r.outcome().Verified());
  EXPECT_TRUE(Differs(r, "SETTING DATABASE work_mem", SchemaDiffKind::kMissing)) << Failures(r);
  EXPECT_TRUE(Differs(r, "SETTING DATABASE ROLE vouch statement_timeout", SchemaDiffKind::kMissing)) << Failures(r);
  testing::DropDatabase(db);
}

TEST_F(SchemaPg, ExtensionMissing) {
  ExpectDefect("DROP EXTENSION pg_trgm CASCADE", "EXTENSION pg_trgm", SchemaDiffKind::kMissing);
}

// --rows-only: schema defects are not compared, and said so; the rows still are.
TEST_F(SchemaPg, RowsOnlyLeavesSchemaDefectsNotComparedAndStillJudgesRows) {
  std::string db = Defect(
      "DROP INDEX app.orders_amount_partial; ALTER TABLE app.customers DISABLE TRIGGER customers_touch; SELECT "
      "setval('app.customers_id_seq', 1)");
  DrillReport full = Drill(testing::DatabaseUri(src_), testing::DatabaseUri(db));
  EXPECT_FALSE(full.outcome().Verified());
  EXPECT_TRUE(Differs(full, "INDEX app.orders_amount_partial", SchemaDiffKind::kMissing)) << Failures(full);
  EXPECT_TRUE(full.compare.sequences_compared);

  DrillOptions o = Options();
  o.compare.digest.rows_only = true;
  DrillReport r = Drill(testing::DatabaseUri(src_), testing::DatabaseUri(db), o);
  EXPECT_TRUE(r.outcome().Verified()) << Failures(r);
  EXPECT_TRUE(r.rows_only);
  EXPECT_FALSE(r.schema.compared);
  EXPECT_EQ(r.schema.not_compared, "--rows-only");
  EXPECT_TRUE(r.schema.differences.empty());
  EXPECT_TRUE(r.source_schema_hash.empty());
  EXPECT_TRUE(r.restored_schema_hash.empty());
  EXPECT_FALSE(r.compare.expected.schema.has_value());
  EXPECT_FALSE(r.compare.sequences_compared);
  EXPECT_EQ(r.compare.sequences_not_compared, "--rows-only");
  EXPECT_TRUE(r.sequence_columns.empty());
  EXPECT_FALSE(r.compare.large_objects.compared);
  EXPECT_EQ(r.compare.large_objects.not_compared, "--rows-only");
  ASSERT_TRUE(r.compare.expected.large_objects_left_out.has_value());
  EXPECT_EQ(*r.compare.expected.large_objects_left_out, 0u);
  for (const auto& c : r.checks) {
    EXPECT_TRUE(c.section != "Schema Objects" && c.section != "Schema Validation Hash" && c.section != "Sequences" &&
                c.section != "Large Objects")
        << c.section << " / " << c.name;
  }
  // Without large objects, the rows-only final hash is the full drill's.
  EXPECT_EQ(r.source_final_hash, full.source_final_hash);
  EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
  const std::string text = cli::DrillText(r);
  EXPECT_NE(text.find("Schema objects not compared: --rows-only"), std::string::npos) << text;
  EXPECT_NE(text.find("neither side has large objects, so it is the hash a read of everything gives"),
            std::string::npos)
      << text;

  // A changed row still fails, named by its key.
  auto id = PsqlScalar(db, "SELECT min(id) FROM app.orders");
  auto apply = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " +
                          ShellQuote("UPDATE app.orders SET note = 'changed' WHERE id = " + id));
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  DrillReport rows = Drill(testing::DatabaseUri(src_), testing::DatabaseUri(db), o);
  EXPECT_FALSE(rows.outcome().Verified());
  bool named = false;
  for (const auto& t : rows.compare.tables) {
    if (t.QualifiedName() != "app.orders") continue;
    EXPECT_EQ(t.status, TableStatus::kMismatch);
    named = std::find(t.changed_keys.begin(), t.changed_keys.end(), "id=" + id) != t.changed_keys.end();
  }
  EXPECT_TRUE(named) << Failures(rows);
  EXPECT_TRUE(SchemaFailures(rows).empty()) << Failures(rows);
  testing::DropDatabase(db);
}

TEST_F(SchemaPg, IndexMissingAgainstTheDump) {
  // By text against a dump too.
  std::string db = Defect("DROP INDEX app.customers_lower_name");
  DrillReport r = Drill(dir_ + "/src.custom", testing::DatabaseUri(db));
  EXPECT_FALSE(r.outcome().Verified());
  EXPECT_TRUE(Differs(r, "INDEX app.customers_lower_name", SchemaDiffKind::kMissing)) << Failures(r);
  testing::DropDatabase(db);
}

TEST_F(SchemaPg, CliExitsOneAndNamesTheObject) {
  std::string db = Defect("DROP INDEX app.orders_amount_partial");
  auto run = RunCommand(testing::BinPath("VOUCH_BIN") + " drill " + testing::DatabaseUri(src_) + " " +
                        testing::DatabaseUri(db));
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("missing INDEX app.orders_amount_partial"), std::string::npos) << run.out;
  for (const char* format : {"json", "markdown", "junit"}) {
    auto f = RunCommand(testing::BinPath("VOUCH_BIN") + " drill --format " + format + " " +
                        testing::DatabaseUri(src_) + " " + testing::DatabaseUri(db));
    EXPECT_EQ(f.exit_code, 1) << format << ": " << f.err;
    EXPECT_NE(f.out.find("INDEX app.orders_amount_partial"), std::string::npos) << format << ": " << f.out;
  }
  testing::DropDatabase(db);
}

// A --schema-only digest reads its objects in two halves, on two
// connections in one snapshot with --jobs 2 or more, one after the other
// with --jobs 1; either way it reads what a full digest reads in one query.
TEST_F(SchemaPg, SchemaOnlyDigestReadsTheSameObjectsOnOneOrTwoConnections) {
  DigestOptions full;
  full.jobs = 2;
  auto whole = DigestSource(testing::DatabaseUri(src_), full);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  ASSERT_TRUE(whole->schema.has_value());
  ASSERT_GT(whole->schema->objects.size(), 50u);
  for (int jobs : {1, 2}) {
    DigestOptions o;
    o.jobs = jobs;
    o.schema_only = true;
    auto d = DigestSource(testing::DatabaseUri(src_), o);
    ASSERT_TRUE(d.ok()) << d.status().message();
    ASSERT_TRUE(d->schema.has_value());
    const SchemaCatalog& a = *d->schema;
    const SchemaCatalog& b = *whole->schema;
    ASSERT_EQ(a.objects.size(), b.objects.size()) << "jobs " << jobs;
    for (size_t i = 0; i < a.objects.size(); ++i) {
      EXPECT_EQ(a.objects[i].name, b.objects[i].name) << "jobs " << jobs;
      EXPECT_EQ(a.objects[i].flags, b.objects[i].flags) << a.objects[i].name;
      EXPECT_EQ(a.objects[i].text, b.objects[i].text) << a.objects[i].name;
      EXPECT_EQ(a.objects[i].exact, b.objects[i].exact) << a.objects[i].name;
    }
    EXPECT_EQ(a.column_orders, b.column_orders) << "jobs " << jobs;
    EXPECT_EQ(SchemaValidationHash(&a, true, true), SchemaValidationHash(&b, true, true)) << "jobs " << jobs;
  }
}

TEST_F(SchemaPg, LastNightsManifestCatchesADroppedIndex) {
  DigestOptions o;
  o.jobs = 2;
  auto digest = DigestSource(testing::DatabaseUri(src_), o);
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  ASSERT_TRUE(digest->schema.has_value());
  const std::string text = ManifestJson(*digest, "test");
  {
    std::ofstream out(dir_ + "/src.manifest.json", std::ios::binary);
    out << text;
  }
  // Read back: the same objects and fingerprints.
  auto loaded = ParseManifest(text, "src.manifest.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ASSERT_TRUE(loaded->schema.has_value());
  ASSERT_EQ(loaded->schema->objects.size(), digest->schema->objects.size());
  for (size_t i = 0; i < loaded->schema->objects.size(); ++i) {
    EXPECT_EQ(loaded->schema->objects[i].name, digest->schema->objects[i].name);
    EXPECT_EQ(loaded->schema->objects[i].exact, digest->schema->objects[i].exact);
    EXPECT_EQ(loaded->schema->objects[i].text, digest->schema->objects[i].text);
  }
  // A changed fingerprint is an edited manifest.
  std::string edited = text;
  const size_t at = edited.find("\"INDEX app.orders_amount_partial\"");
  ASSERT_NE(at, std::string::npos);
  const size_t hex = edited.find('"', edited.find(',', edited.find(',', at) + 1) + 1) + 1;
  edited[hex] = edited[hex] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseManifest(edited, "edited.json").ok());
  // Today's copy lost an index: last night's manifest names it, exactly.
  std::string db = Defect("DROP INDEX app.orders_amount_partial");
  DrillReport r = Drill(dir_ + "/src.manifest.json", testing::DatabaseUri(db));
  EXPECT_TRUE(r.schema.exact);
  EXPECT_FALSE(r.outcome().Verified());
  EXPECT_TRUE(Differs(r, "INDEX app.orders_amount_partial", SchemaDiffKind::kMissing)) << Failures(r);
  EXPECT_EQ(r.schema.differences.size(), 1u) << Failures(r);
  DrillReport clean = Drill(dir_ + "/src.manifest.json", testing::DatabaseUri(restored_));
  EXPECT_TRUE(clean.schema.differences.empty()) << Failures(clean);
  EXPECT_EQ(clean.source_schema_hash, clean.restored_schema_hash);
  testing::DropDatabase(db);
}

TEST_F(SchemaPg, RoleAndMembershipMissing) {
  // The source's cluster-wide objects come from its pg_dumpall
  // --globals-only file, taken while the role and the membership existed.
  const std::string role = "vouch_schema_gone_" + std::to_string(::getpid());
  const std::string member = "vouch_schema_member_" + std::to_string(::getpid());
  auto make = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + src_ + " -c " +
                         ShellQuote("CREATE ROLE " + role + "; CREATE ROLE " + member + "; GRANT vouch_schema_reader TO " +
                                    member) +
                         " && pg_dumpall --globals-only -f " + dir_ + "/globals.sql && psql -X -q -v ON_ERROR_STOP=1 -d " +
                         src_ + " -c " + ShellQuote("DROP ROLE " + role + "; REVOKE vouch_schema_reader FROM " + member));
  ASSERT_EQ(make.exit_code, 0) << make.err;
  DrillOptions o = Options();
  o.source_globals = dir_ + "/globals.sql";
  DrillReport r = Drill(dir_ + "/src.custom", testing::DatabaseUri(restored_), o);
  RunCommand("psql -X -q -d " + src_ + " -c " + ShellQuote("DROP ROLE " + member));
  EXPECT_TRUE(r.schema.cluster_compared) << r.schema.cluster_not_compared;
  EXPECT_FALSE(r.outcome().Verified());
  EXPECT_TRUE(Differs(r, "ROLE " + role, SchemaDiffKind::kMissing)) << Failures(r);
  EXPECT_TRUE(Differs(r, "MEMBERSHIP vouch_schema_reader " + member, SchemaDiffKind::kMissing)) << Failures(r);
  // The roles that are still there compare equal by their attributes.
  EXPECT_FALSE(Differs(r, "ROLE vouch_schema_reader", SchemaDiffKind::kChanged)) << Failures(r);
  // A globals file is for a dump, not a database.
  DrillOptions bad = Options();
  bad.restored_globals = dir_ + "/globals.sql";
  auto err = RunDrill(dir_ + "/src.custom", testing::DatabaseUri(restored_), bad);
  EXPECT_FALSE(err.ok());
}

TEST_F(SchemaPg, RestoreThatFailedOneIndexBuildNamesTheIndex) {
  // The copy already holds a relation with the index's name when pg_restore
  // runs, so that index's build fails and, without --exit-on-error, the
  // restore goes on; the relation is dropped afterwards, leaving a copy
  // whose only defect is the missing index. (An index over a function that
  // calls another one without its schema fails only on PostgreSQL 15:
  // from 17 on, CREATE INDEX itself runs with a safe search_path.)
  std::string db = testing::CreateDatabase("vouch_schema_idxsrc");
  auto load = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " + ShellQuote(
      "CREATE TABLE public.items (id int PRIMARY KEY, name text);"
      "INSERT INTO public.items SELECT g, 'n' || g FROM generate_series(1, 100) g;"
      "CREATE INDEX items_tagged ON public.items (lower(name));"
      "CREATE INDEX items_name ON public.items (name);"));
  ASSERT_EQ(load.exit_code, 0) << load.err;
  std::string copy = testing::CreateDatabase("vouch_schema_idxcopy");
  ASSERT_EQ(RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + copy + " -c " +
                       ShellQuote("CREATE TABLE public.items_tagged (x int)")).exit_code, 0);
  auto restore = RunCommand("pg_dump -Fc -d " + db + " | pg_restore -d " + copy);
  EXPECT_NE(restore.exit_code, 0) << "the restore was expected to fail one index build";
  EXPECT_NE(restore.err.find("items_tagged"), std::string::npos) << restore.err;
  ASSERT_EQ(RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + copy + " -c " +
                       ShellQuote("DROP TABLE public.items_tagged")).exit_code, 0);
  DrillReport r = Drill(testing::DatabaseUri(db), testing::DatabaseUri(copy));
  EXPECT_FALSE(r.outcome().Verified());
  EXPECT_TRUE(Differs(r, "INDEX public.items_tagged", SchemaDiffKind::kMissing)) << Failures(r);
  EXPECT_EQ(r.schema.differences.size(), 1u) << Failures(r);
  ASSERT_EQ(r.compare.tables.size(), 1u);
  EXPECT_EQ(r.compare.tables[0].status, TableStatus::kMatch);
  EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
  testing::DropDatabase(db);
  testing::DropDatabase(copy);
}

}  // namespace
}  // namespace vouch
