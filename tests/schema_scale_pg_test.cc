// Schemas as users have them: thousands of small tables in many schemas.
// The live database, its custom dump and its directory dump give one final
// hash; manifests cost a few hundred bytes per small table; and a server
// whose lock table cannot hold a lock on every table gives the clear error
// (exit 3, the setting and the table count named), never a partial result.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

// Creates `tables` tables (id int primary key, v text) spread over 20
// schemas, table i holding (i * 37) % 300 rows, one transaction per table (a
// single transaction would itself need a lock per table).
std::string CreateTablesSql(int tables) {
  return "DO $$ BEGIN "
         "FOR s IN 0..19 LOOP EXECUTE format('CREATE SCHEMA IF NOT EXISTS tenant_%s', s); END LOOP; "
         "FOR i IN 0.." +
         std::to_string(tables - 1) +
         " LOOP "
         "  EXECUTE format('CREATE TABLE tenant_%s.t%s (id int PRIMARY KEY, v text)', i % 20, i); "
         "  EXECUTE format('INSERT INTO tenant_%s.t%s SELECT g, md5(g::text) FROM generate_series(1, %s) g', "
         "                 i % 20, i, (i * 37) % 300); "
         "  COMMIT; "
         "END LOOP; END $$";
}

class SchemaScalePg : public testing::PreparedTest<SchemaScalePg> {
 protected:
  friend class testing::PreparedTest<SchemaScalePg>;
  static constexpr int kTables = 2000;
  static void Prepare() {
    db_ = testing::CreateDatabase("vouch_scale");
    dir_ = testing::MakeTempDir("vouch_scale");
    vouch_ = testing::BinPath("VOUCH_BIN");
    auto made = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db_ + " <<'SQL'\n" + CreateTablesSql(kTables) + "\nSQL");
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto dumped = RunCommand("pg_dump -Fc -f " + dir_ + "/db.custom " + db_ + " && pg_dump -Fd -j 2 -f " + dir_ +
                             "/db.dir " + db_);
    ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }
  static std::string FinalHash(const testing::CmdResult& r) {
    size_t pos = r.out.find("FINAL_VALIDATION_HASH: ");
    return pos == std::string::npos ? "" : r.out.substr(pos + 23, 64);
  }

  static std::string db_, dir_, vouch_;
};
std::string SchemaScalePg::db_, SchemaScalePg::dir_, SchemaScalePg::vouch_;

TEST_F(SchemaScalePg, LiveCustomAndDirectoryDumpsGiveOneFinalHash) {
  auto live = Vouch("digest -q -j 2 " + testing::DatabaseUri(db_) + " -o " + dir_ + "/live.json");
  ASSERT_EQ(live.exit_code, 0) << live.err;
  auto custom = Vouch("digest -q " + dir_ + "/db.custom");
  auto directory = Vouch("digest -q " + dir_ + "/db.dir");
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  ASSERT_EQ(directory.exit_code, 0) << directory.err;
  ASSERT_EQ(FinalHash(live).size(), 64u) << live.out;
  EXPECT_EQ(FinalHash(custom), FinalHash(live));
  EXPECT_EQ(FinalHash(directory), FinalHash(live));
  EXPECT_TRUE(live.out.find("2000 tables") != std::string::npos || live.out.find("2,000 tables") != std::string::npos)
      << live.out.substr(live.out.size() - 500);

  // Every table is in the manifest; a table under 100 rows costs < 512 bytes.
  auto m = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/live.json"));
  ASSERT_EQ(m["tables"].size(), static_cast<size_t>(kTables));
  for (const auto& t : m["tables"]) {
    if (t["rows"].get<uint64_t>() < 100) {
      EXPECT_LT(t.dump(2).size(), 512u) << t["name"];
    }
  }
  // The manifest and the dumps compare table by table.
  auto cmp = Vouch("compare -q " + dir_ + "/live.json " + dir_ + "/db.custom");
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out.substr(0, 2000) << cmp.err;
  auto va = Vouch("verify-archive -q " + dir_ + "/db.dir");
  EXPECT_EQ(va.exit_code, 0) << va.out.substr(0, 2000) << va.err;
}

TEST_F(SchemaScalePg, OneChangedRowAmongThousandsOfTablesIsNamed) {
  const std::string copy = testing::CreateDatabase("vouch_scale_copy");
  auto restored = RunCommand("pg_restore -d " + copy + " " + dir_ + "/db.custom && psql -X -q -d " + copy +
                             " -c \"UPDATE tenant_7.t1007 SET v = 'changed' WHERE id = 5\"");
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  auto cmp = Vouch("compare -q " + dir_ + "/db.custom " + testing::DatabaseUri(copy));
  testing::DropDatabase(copy);
  EXPECT_EQ(cmp.exit_code, 1) << cmp.err;
  EXPECT_NE(cmp.out.find("tenant_7.t1007"), std::string::npos) << cmp.out.substr(0, 3000);
  EXPECT_NE(cmp.out.find("id=5"), std::string::npos) << cmp.out.substr(0, 3000);
}

// A server started with a lock table too small for every table: vouch names
// max_locks_per_transaction and the number of tables, exits 3 and prints no
// result; a selection that fits still reads.
TEST(SchemaScaleLocks, TooFewLockSlotsIsAClearErrorWithExit3) {
  const std::string dir = testing::MakeTempDir("vouch_locks");
  const std::string script = testing::BinPath("VOUCH_SOURCE_DIR") + "/scripts/pgcluster.sh";
  const std::string major = std::to_string(testing::TestPg().major);
  auto start = RunCommand("PGCLUSTER_CONF=$'max_locks_per_transaction = 10\\nmax_connections = 10' " + script +
                          " start " + dir + "/pg " + major);
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  auto port = RunCommand("sed -n 's/^PGPORT=//p' " + dir + "/pg/env");
  const std::string p = port.out.substr(0, port.out.find('\n'));
  const std::string uri = "postgresql://vouch@127.0.0.1:" + p + "/postgres";
  auto made = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d '" + uri + "' <<'SQL'\n" + CreateTablesSql(1500) + "\nSQL");
  auto all = RunCommand(testing::BinPath("VOUCH_BIN") + " digest -q -j 1 '" + uri + "'");
  auto some = RunCommand(testing::BinPath("VOUCH_BIN") + " digest -q -j 1 -n tenant_3 -t 'tenant_3.t10*' '" + uri + "'");
  RunCommand(script + " stop " + dir + "/pg; rm -rf " + dir);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(all.exit_code, 3) << all.out.substr(0, 500) << all.err;
  EXPECT_NE(all.err.find("max_locks_per_transaction (10)"), std::string::npos) << all.err;
  EXPECT_NE(all.err.find("reading 1500 tables"), std::string::npos) << all.err;
  EXPECT_EQ(all.out.find("FINAL_VALIDATION_HASH"), std::string::npos) << all.out.substr(0, 500);
  EXPECT_EQ(some.exit_code, 0) << some.err;
  EXPECT_NE(some.out.find("FINAL_VALIDATION_HASH"), std::string::npos) << some.out;
}

}  // namespace
}  // namespace vouch
