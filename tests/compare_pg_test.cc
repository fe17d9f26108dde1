// vouch compare on real databases: a pg_dump | psql copy and a pg_dump -Fc |
// pg_restore copy match (exit 0, same final hash); each defect applied to a
// copy is named with its exact key (exit 1), whether the expected side is the
// database or its plain dump; a manifest on one side finds the tables.
#include <gtest/gtest.h>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class ComparePg : public testing::PreparedTest<ComparePg> {
 protected:
  friend class testing::PreparedTest<ComparePg>;
  static void Prepare() {
    src_ = testing::CreateDrillDatabase("vouch_cmp_src", 0.005, 4, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_cmp");
    ASSERT_EQ(RunCommand("PGTZ=UTC pg_dump -Fp -d " + src_ + " -f " + dir_ + "/src.sql").exit_code, 0);
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(src_);
    RunCommand("rm -rf " + dir_);
  }
  static std::string Uri(const std::string& db) { return testing::DatabaseUri(db); }
  static std::string CopyOf(const char* how) {
    std::string db = testing::CreateDatabase("vouch_cmp_copy");
    std::string cmd = std::string(how) == "psql" ? "pg_dump -d " + src_ + " | psql -X -q -v ON_ERROR_STOP=1 -d " + db
                                                 : "pg_dump -Fc -d " + src_ + " | pg_restore -d " + db;
    auto r = RunCommand(cmd);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return db;
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args + " -q"); }
  static std::string src_, dir_, vouch_;
};
std::string ComparePg::src_, ComparePg::dir_, ComparePg::vouch_;

TEST_F(ComparePg, RestoredCopiesMatch) {
  for (const char* how : {"psql", "pg_restore"}) {
    SCOPED_TRACE(how);
    std::string copy = CopyOf(how);
    auto r = Vouch("compare " + Uri(src_) + " " + Uri(copy) + " --jobs 2");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Result: ✅ all"), std::string::npos) << r.out;
    const size_t expected = r.out.find("FINAL_VALIDATION_HASH expected: ");
    ASSERT_NE(expected, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("actual:   " + r.out.substr(expected + 32, 64) + "  ✅ MATCH"), std::string::npos)
        << "final hashes differ:\n"
        << r.out;
    EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
    testing::DropDatabase(copy);
  }
}

TEST_F(ComparePg, EveryDefectIsNamedWithItsKey) {
  std::string copy = CopyOf("psql");
  std::string exec_id = PsqlScalar(copy, "SELECT min(id) FROM executions WHERE length(output) > 0");
  const std::string defects =
      "UPDATE tasks SET priority = priority + 1 WHERE id = 7;"
      "DELETE FROM tool_calls WHERE id = 100;"
      "INSERT INTO agents (id, name, created_at) VALUES (9999, 'intruder', now());"
      "UPDATE executions SET output = set_byte(output, 0, get_byte(output, 0) # 1) WHERE id = " +
      exec_id +
      ";"
      "UPDATE sessions SET started_at = started_at + interval '1 microsecond' WHERE id = 3;"
      "UPDATE nokey SET v = 'y' WHERE v IS NULL;"
      "UPDATE parted SET v = 'B' WHERE id = 2;";
  auto apply = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + copy + " -c \"" + defects + "\"");
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  for (const std::string& expected : {Uri(src_), dir_ + "/src.sql"}) {
    SCOPED_TRACE(expected);
    auto r = Vouch("compare " + expected + " " + Uri(copy) + " --jobs 2");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    for (const std::string& line :
         {std::string("public.tasks: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=7\n"),
          std::string("public.tool_calls: 1 missing, 0 extra, 0 changed (key id)\n  missing  id=100\n"),
          std::string("public.agents: 0 missing, 1 extra, 0 changed (key id)\n  extra    id=9999\n"),
          "public.executions: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=" + exec_id + "\n",
          std::string("public.sessions: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=3\n"),
          std::string("public.nokey: 1 missing, 1 extra, 0 changed (no key: whole rows shown)\n  missing  row \\N\n  "
                      "extra    row y\n"),
          std::string(
              "public.parted_us: 0 missing, 0 extra, 1 changed (key id, region)\n  changed  (id, region)=(2, us)\n")}) {
      EXPECT_NE(r.out.find(line), std::string::npos) << "missing:\n" << line << "in:\n" << r.out;
    }
    for (const char* same : {"public.audit_log ", "public.types ", "public.parted_eu ", "public.empty_one "}) {
      size_t row = r.out.find(std::string("| ") + same);
      ASSERT_NE(row, std::string::npos) << same;
      EXPECT_NE(r.out.substr(row, r.out.find('\n', row) - row).find("MATCH"), std::string::npos) << same;
      EXPECT_EQ(r.out.substr(row, r.out.find('\n', row) - row).find("MISMATCH"), std::string::npos) << same;
    }
  }
  // JSON carries the same facts.
  auto j = Vouch("compare " + Uri(src_) + " " + Uri(copy) + " --format json");
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_NE(j.out.find("\"match\": false"), std::string::npos);
  EXPECT_NE(j.out.find("\"id=100\""), std::string::npos) << j.out;
  testing::DropDatabase(copy);
}

TEST_F(ComparePg, ManifestOnEitherSideAndMissingTables) {
  std::string copy = CopyOf("psql");
  auto m = RunCommand(vouch_ + " digest " + Uri(src_) + " -o " + dir_ + "/src.json -q");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto same = Vouch("compare " + dir_ + "/src.json " + Uri(copy));
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  auto rev = Vouch("compare " + Uri(copy) + " " + dir_ + "/src.json");
  EXPECT_EQ(rev.exit_code, 0) << rev.out << rev.err;
  ASSERT_EQ(
      RunCommand("psql -X -q -d " + copy + " -c 'DELETE FROM tool_calls WHERE id = 9; DROP TABLE empty_one'").exit_code,
      0);
  auto r = Vouch("compare " + dir_ + "/src.json " + Uri(copy));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("❌ MISSING"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("public.tool_calls: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rows not located: a manifest holds digests, not rows"), std::string::npos) << r.out;
  testing::DropDatabase(copy);
}

}  // namespace
}  // namespace vouch
