// PostgreSQL's own regression database, which holds nearly every kind of
// object PostgreSQL has (issue "Everything a restore must bring back"):
// scripts/regress-db.sh builds it from the regression suite of the server's
// Debian source package (on every version of the matrix: 15 from the host's
// packages, 17 and 18 from scripts/pgchroot.sh's chroots). It is dumped
// (custom and plain, both with --create, and pg_dumpall --globals-only) and
// restored as a DR drill restores: into a fresh cluster, the globals first,
// then pg_restore --create. Against its restored copy (exactly, by the
// catalogs), its custom dump and its plain dump (by the text a dump and a
// database both print, the other kinds by presence), vouch reports no schema
// difference, one SCHEMA_VALIDATION_HASH and one FINAL_VALIDATION_HASH, and
// every table matching. The drill's checks of the rows themselves do find
// things in this database (timestamps in 2097, NULL record times, identity
// sequences behind the values the suite inserted with OVERRIDING SYSTEM
// VALUE, a foreign key to a generated column, whose values no dump holds):
// the restore must add none, so each such finding must be the source's too.
// A copy missing one index is still told apart, so the comparison is not
// blind on this database.
//
// The database lives on two clusters of its own, not the shared test
// cluster: the suite creates and drops roles, databases and tablespaces
// while it runs, which suites running beside it would see in their own
// comparisons of roles, and a restore into a fresh cluster with the source's
// globals is the drill this test stands for. Same-version dump and restore of
// the regression database needs no adjustment (PostgreSQL's own pg_upgrade
// test, src/bin/pg_upgrade/t/002_pg_upgrade.pl, drops objects only across
// versions): pg_restore must succeed without error, and replaying the
// globals fails only on the bootstrap role that initdb made already.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

#include "render/drill.h"
#include "support/pg_test_env.h"
#include "vouch/engine/drill.h"

namespace vouch {
namespace {

using testing::RunCommand;

class RegressionDb : public testing::PreparedTest<RegressionDb> {
 protected:
  friend class testing::PreparedTest<RegressionDb>;

  static void Prepare() {
    const auto begin = std::chrono::steady_clock::now();
    auto step = [last = begin](const std::string& what) mutable {
      const auto now = std::chrono::steady_clock::now();
      std::cout << "regression_db: " << what << " ("
                << std::chrono::duration_cast<std::chrono::seconds>(now - last).count() << " s)" << std::endl;
      last = now;
    };
    const std::string root = testing::BinPath("VOUCH_SOURCE_DIR");
    const std::string cache = testing::BinPath("VOUCH_PGSRC_CACHE");
    const std::string major = std::to_string(testing::TestPg().major);
    pgcluster_ = root + "/scripts/pgcluster.sh";
    dir_ = testing::MakeTempDir("vouch_regress");
    // A chroot's server (17, 18) reads the suite's files and module in the
    // cache at the same path as the host: the cache is mounted in the
    // server's namespace, made when the server starts.
    auto start = RunCommand("mkdir -p " + cache + " && export VOUCH_CHROOT_BIND=\"${VOUCH_CHROOT_BIND:-} " + cache +
                            "\" && " + pgcluster_ + " start " + dir_ + "/src " + major + " && " + pgcluster_ + " start " +
                            dir_ + "/dst " + major);
    ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
    src_ = "postgresql://vouch@127.0.0.1:" + Port("src") + "/regression";
    dst_ = "postgresql://vouch@127.0.0.1:" + Port("dst") + "/regression";
    step("two clusters started");

    // Fails when the source package cannot be fetched or the suite's module
    // cannot be built, but for one case: a chroot's mirror that does not
    // give the source package's files (exit 4; Debian 12's own server, 15,
    // never skips), where every test is skipped, which ctest reports.
    auto built = RunCommand(In("src") + root + "/scripts/regress-db.sh " + cache);
    std::cout << built.out;
    if (built.exit_code == 4) {
      std::cout << built.err;
      const size_t e = built.err.find("E: ");
      skip_ = "PostgreSQL " + major + "'s source package is not on this machine's mirror" +
              (e == std::string::npos ? "" : ": " + built.err.substr(e, built.err.find('\n', e) - e));
      return;
    }
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    step("regression database built");

    auto dumped = RunCommand(In("src") + "pg_dump -Fc --create -d regression -f " + dir_ +
                             "/regression.custom && pg_dump -Fp --create -d regression -f " + dir_ +
                             "/regression.sql && pg_dumpall --globals-only -f " + dir_ + "/globals.sql");
    ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
    step("dumped (custom, plain, globals)");

    auto globals = RunCommand(In("dst") + "psql -X -q -d postgres -f " + dir_ + "/globals.sql");
    ASSERT_EQ(globals.exit_code, 0) << globals.err;
    for (size_t at = globals.err.find("ERROR:"); at != std::string::npos; at = globals.err.find("ERROR:", at + 1)) {
      const std::string line = globals.err.substr(at, globals.err.find('\n', at) - at);
      EXPECT_EQ(line, "ERROR:  role \"vouch\" already exists") << globals.err;
    }
    auto restored = RunCommand(In("dst") + "pg_restore --create -d postgres " + dir_ + "/regression.custom");
    ASSERT_EQ(restored.exit_code, 0) << restored.err;
    step("restored into a fresh cluster (globals, then pg_restore --create)");
  }

  void SetUp() override {
    testing::PreparedTest<RegressionDb>::SetUp();
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  static void TearDownTestSuite() {
    if (dir_.empty()) return;
    RunCommand(pgcluster_ + " stop " + dir_ + "/src; " + pgcluster_ + " stop " + dir_ + "/dst; rm -rf " + dir_);
  }

  // The port of cluster `which` ("src", "dst").
  static std::string Port(const std::string& which) {
    auto r = RunCommand("sed -n 's/^PGPORT=//p' " + dir_ + "/" + which + "/env");
    return r.out.substr(0, r.out.find('\n'));
  }
  // A shell prefix that points the PG* variables at cluster `which`.
  static std::string In(const std::string& which) {
    return "eval \"$(" + pgcluster_ + " env " + dir_ + "/" + which + ")\" && ";
  }

  static DrillReport Drill(const std::string& source, const std::string& restored, const std::string& source_globals,
                           const std::string& restored_globals) {
    DrillOptions o;
    o.compare.digest.jobs = 2;
    o.source_globals = source_globals;
    o.restored_globals = restored_globals;
    const auto begin = std::chrono::steady_clock::now();
    auto r = RunDrill(source, restored, o);
    std::cout << "regression_db: drill " << source << " " << restored << " ("
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() << " s)" << std::endl;
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : DrillReport{};
  }

  // No schema difference, one schema hash, every table matching, one final
  // hash; `cluster`: the cluster-wide objects were compared too.
  static void ExpectNoFalseDifference(const DrillReport& r, bool exact, bool cluster) {
    EXPECT_TRUE(r.schema.compared) << r.schema.not_compared;
    EXPECT_EQ(r.schema.exact, exact);
    EXPECT_EQ(r.schema.cluster_compared, cluster) << r.schema.cluster_not_compared;
    std::string diffs;
    for (const auto& d : r.schema.differences) diffs += std::string(SchemaDiffKindName(d.kind)) + " " + d.name + "\n";
    EXPECT_TRUE(r.schema.differences.empty()) << diffs;
    EXPECT_EQ(r.source_schema_hash.size(), 64u);
    EXPECT_EQ(r.source_schema_hash, r.restored_schema_hash);
    EXPECT_GT(r.compare.tables.size(), 300u);
    for (const auto& t : r.compare.tables) EXPECT_EQ(t.status, TableStatus::kMatch) << t.QualifiedName();
    EXPECT_EQ(r.source_final_hash.size(), 64u);
    EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
    ExpectOnlyTheSourcesFindings(r);
  }

  // Every failed check is a finding about the rows that the source has as
  // well (the restore added none); any other failed check is a difference.
  static void ExpectOnlyTheSourcesFindings(const DrillReport& r) {
    bool temporal = false;
    for (const auto& c : r.checks) {
      if (c.passed) continue;
      const std::string what = c.section + " / " + c.name + ": " + cli::DrillCheckDetail(r, c);
      switch (c.subject) {
        case DrillSubject::kFutureTimestamps:
        case DrillSubject::kNullRecordTimes:
          temporal = true;
          break;
        case DrillSubject::kOrphans: {
          const OrphanCheck& x = r.restored_checks.orphans[c.index];
          auto it = std::find_if(r.source_checks.orphans.begin(), r.source_checks.orphans.end(),
                                 [&](const OrphanCheck& y) { return y.Name() == x.Name(); });
          ASSERT_NE(it, r.source_checks.orphans.end()) << what;
          EXPECT_EQ(it->not_checked, x.not_checked) << what;
          EXPECT_EQ(it->orphans, x.orphans) << what;
          EXPECT_EQ(it->child_rows, x.child_rows) << what;
          EXPECT_EQ(it->null_refs, x.null_refs) << what;
          break;
        }
        case DrillSubject::kSequenceColumn: {
          const SequenceColumnCheck& x = r.sequence_columns[c.index];
          EXPECT_TRUE(std::any_of(r.sequence_columns.begin(), r.sequence_columns.end(), [&](const SequenceColumnCheck& y) {
            return y.restored != x.restored && y.column.column == x.column.column &&
                   y.column.sequence == x.column.sequence && !y.Passed() && y.next == x.next &&
                   y.column.max == x.column.max;
          })) << what << ": not the other side's";
          break;
        }
        default:
          ADD_FAILURE() << what;
      }
    }
    if (!temporal) return;
    const auto& e = r.source_checks.temporal;
    const auto& a = r.restored_checks.temporal;
    ASSERT_EQ(e.size(), a.size());
    for (size_t i = 0; i < e.size(); ++i) {
      ASSERT_EQ(e[i].QualifiedName(), a[i].QualifiedName());
      EXPECT_EQ(e[i].rows, a[i].rows) << a[i].QualifiedName();
      ASSERT_EQ(e[i].columns.size(), a[i].columns.size()) << a[i].QualifiedName();
      for (size_t j = 0; j < e[i].columns.size(); ++j) {
        const TimeColumnStats &x = e[i].columns[j], &y = a[i].columns[j];
        EXPECT_EQ(x.column, y.column);
        EXPECT_EQ(x.future, y.future) << a[i].QualifiedName() << "." << y.column;
        EXPECT_EQ(x.nulls, y.nulls) << a[i].QualifiedName() << "." << y.column;
        EXPECT_EQ(x.invalid, y.invalid) << a[i].QualifiedName() << "." << y.column;
      }
    }
  }

  // Kinds compared by presence against a dump are named in the report.
  static void ExpectPresenceKindsSaid(const DrillReport& r) {
    const auto presence = r.schema.PresenceKinds();
    for (const char* kind : {"COLUMN", "TABLE"}) {
      EXPECT_NE(std::find(presence.begin(), presence.end(), kind), presence.end()) << kind;
    }
    for (const char* kind : {"CONSTRAINT", "INDEX", "VIEW", "TRIGGER", "POLICY"}) {
      EXPECT_EQ(std::find(presence.begin(), presence.end(), kind), presence.end()) << kind;
    }
    const std::string text = cli::DrillText(r);
    EXPECT_NE(text.find("Compared by presence only"), std::string::npos) << text.substr(0, 3000);
  }

  static std::string pgcluster_, dir_, src_, dst_, skip_;
};
std::string RegressionDb::pgcluster_, RegressionDb::dir_, RegressionDb::src_, RegressionDb::dst_, RegressionDb::skip_;

TEST_F(RegressionDb, RestoredCopyHasNoSchemaDifference) {
  DrillReport r = Drill(src_, dst_, "", "");
  ExpectNoFalseDifference(r, /*exact=*/true, /*cluster=*/true);
  // Nearly every kind of object, compared.
  const std::map<std::string, size_t> at_least = {
      {"ACL", 5},    {"COLLATION", 1}, {"COLUMN", 1000}, {"CONSTRAINT", 100}, {"DOMAIN", 10},
      {"FUNCTION", 100}, {"INDEX", 100}, {"MATVIEW", 3}, {"POLICY", 3},        {"PROCEDURE", 3},
      {"RLS", 1},    {"ROLE", 1},      {"SCHEMA", 5},    {"SETTING", 5},      {"TABLE", 300},
      {"TRIGGER", 20}, {"TYPE", 10},   {"VIEW", 20}};
  for (const auto& [kind, n] : at_least) {
    auto k = std::find_if(r.schema.kinds.begin(), r.schema.kinds.end(),
                          [&](const SchemaKindComparison& c) { return c.kind == kind; });
    ASSERT_NE(k, r.schema.kinds.end()) << kind;
    EXPECT_GE(k->compared, n) << kind;
  }
  // pg_restore gives the inheritance children whose parents gained columns
  // after them another column order (the inherited columns first: the tables
  // PostgreSQL's own dump and restore test adjusts, AdjustDump.pm): a note,
  // not a difference.
  EXPECT_NE(std::find(r.schema.column_order_differs.begin(), r.schema.column_order_differs.end(), "public.b_star"),
            r.schema.column_order_differs.end());
  EXPECT_NE(cli::DrillText(r).find("columns in another order than the source's"), std::string::npos);
  EXPECT_TRUE(r.compare.sequences_compared);
  EXPECT_GT(r.compare.sequences.size(), 10u);
  EXPECT_TRUE(r.compare.large_objects.compared);
  EXPECT_GT(r.compare.large_objects.expected_count, 0u);
}

// Binary COPY: every table of the regression database that vouch reads as
// binary (auto) has the table digest it has read as text, and the final hash
// is the same; most tables are read as binary (the others name the column
// type that kept them on text).
TEST_F(RegressionDb, BinaryCopyReadsTheSameRowsAsText) {
  DigestOptions o;
  o.jobs = 2;
  o.schema = false;
  o.copy_format = CopyFormat::kText;
  auto text = DigestSource(src_, o);
  ASSERT_TRUE(text.ok()) << text.status().message();
  o.copy_format = CopyFormat::kAuto;
  o.split_bytes = 64 << 10;  // the larger tables in TID ranges too
  auto bin = DigestSource(src_, o);
  ASSERT_TRUE(bin.ok()) << bin.status().message();
  ASSERT_EQ(text->tables.size(), bin->tables.size());
  size_t binary = 0, ranged = 0;
  for (size_t i = 0; i < text->tables.size(); ++i) {
    const TableResult& t = text->tables[i];
    const TableResult& b = bin->tables[i];
    ASSERT_EQ(t.QualifiedName(), b.QualifiedName());
    EXPECT_EQ(t.digest.rows(), b.digest.rows()) << t.QualifiedName() << " read as " << b.read_as;
    EXPECT_EQ(t.digest.ContentHashHex(), b.digest.ContentHashHex()) << t.QualifiedName() << " read as " << b.read_as;
    binary += b.read_as.rfind("binary", 0) == 0;
    ranged += b.read_as.find("TID ranges") != std::string::npos;
    if (b.read_as.rfind("binary", 0) != 0) {
      EXPECT_NE(b.read_as.find("(column "), std::string::npos) << t.QualifiedName() << ": " << b.read_as;
    }
  }
  EXPECT_EQ(text->FinalHashHex(), bin->FinalHashHex());
  std::cout << "regression_db: " << binary << " of " << bin->tables.size() << " tables read as binary COPY, " << ranged
            << " in TID ranges" << std::endl;
  EXPECT_GT(binary * 2, bin->tables.size());
  EXPECT_GT(ranged, 0u);
}

TEST_F(RegressionDb, CustomDumpHasNoFalseDifference) {
  const std::string dump = dir_ + "/regression.custom";
  DrillReport r = Drill(src_, dump, "", "");
  ExpectNoFalseDifference(r, /*exact=*/false, /*cluster=*/false);
  ExpectPresenceKindsSaid(r);
  // With its globals file, the roles compare too, and the --create dump's
  // database settings stay the dump's own.
  DrillReport g = Drill(src_, dump, "", dir_ + "/globals.sql");
  ExpectNoFalseDifference(g, /*exact=*/false, /*cluster=*/true);
  // The dump against the restored copy, the other way round.
  DrillReport d = Drill(dump, dst_, dir_ + "/globals.sql", "");
  ExpectNoFalseDifference(d, /*exact=*/false, /*cluster=*/true);
  EXPECT_EQ(d.source_schema_hash, g.source_schema_hash);
}

TEST_F(RegressionDb, PlainDumpHasNoFalseDifference) {
  const std::string dump = dir_ + "/regression.sql";
  DrillReport r = Drill(src_, dump, "", "");
  ExpectNoFalseDifference(r, /*exact=*/false, /*cluster=*/false);
  ExpectPresenceKindsSaid(r);
  DrillReport d = Drill(dump, dst_, dir_ + "/globals.sql", "");
  ExpectNoFalseDifference(d, /*exact=*/false, /*cluster=*/true);
  // The plain and the custom dump: one schema hash.
  DrillReport c = Drill(dump, dir_ + "/regression.custom", "", "");
  ExpectNoFalseDifference(c, /*exact=*/false, /*cluster=*/false);
  EXPECT_EQ(c.source_schema_hash, r.source_schema_hash);
}

TEST_F(RegressionDb, AnIndexMissingFromTheCopyIsNamed) {
  // A copy of the restored database (with its database settings, which a
  // template copy leaves behind) without one of the suite's indexes: the
  // comparison sees it, exactly and against the dump alike.
  auto copy = RunCommand(In("dst") + "createdb -T regression regression_defect && psql -X -q -v ON_ERROR_STOP=1 "
                         "-d regression_defect <<'SQL'\n"
                         "DO $$ DECLARE s text; BEGIN\n"
                         "  FOR s IN SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = "
                         "(SELECT oid FROM pg_database WHERE datname = 'regression') LOOP\n"
                         "    EXECUTE format('ALTER DATABASE regression_defect SET %I TO %L', split_part(s, '=', 1), "
                         "substr(s, strpos(s, '=') + 1));\n"
                         "  END LOOP;\n"
                         "END $$;\n"
                         "DROP INDEX public.onek_unique1;\n"
                         "SQL");
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  const std::string defect = "postgresql://vouch@127.0.0.1:" + Port("dst") + "/regression_defect";
  for (const std::string& source : {src_, dir_ + "/regression.custom"}) {
    DrillReport r = Drill(source, defect, "", "");
    EXPECT_FALSE(r.outcome().Verified());
    ASSERT_EQ(r.schema.differences.size(), 1u) << source;
    EXPECT_EQ(r.schema.differences[0].name, "INDEX public.onek_unique1");
    EXPECT_EQ(r.schema.differences[0].kind, SchemaDiffKind::kMissing);
    EXPECT_NE(r.source_schema_hash, r.restored_schema_hash);
    EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
  }
  RunCommand(In("dst") + "dropdb regression_defect");
}

}  // namespace
}  // namespace vouch
