// Partitioned tables on the real server: a range-partitioned table with many
// leaves (VOUCH_TEST_PARTITIONS, default 1000) and a two-level tree. The
// database, its custom, directory, tar and plain dumps give one final hash and the
// same roll-ups; a roll-up equals the digest of an unpartitioned table holding
// the same rows (the reference); -t parent selects exactly the leaves under
// it; a row that a restore put into another partition (other bounds) is named
// as moved, and the roll-up says "same rows, different partitions".
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using nlohmann::json;
using testing::RunCommand;

int Leaves() {
  const char* v = std::getenv("VOUCH_TEST_PARTITIONS");
  int n = v != nullptr ? std::atoi(v) : 0;
  return n >= 2 ? n : 1000;
}

// The schema and rows: events holds ids 0 .. 10·leaves-1, ten per leaf
// (k = id); `shifted` moves the bound between events_0 and events_1 from 10
// to 11, so that row id=10 lives in events_0 instead of events_1.
std::string SchemaSql(int leaves, bool shifted) {
  const std::string n = std::to_string(leaves);
  return "CREATE TABLE events (id bigint, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);"
         "DO $$ BEGIN FOR i IN 0.." +
         std::to_string(leaves - 1) +
         " LOOP EXECUTE format('CREATE TABLE events_%s PARTITION OF events FOR VALUES FROM (%s) TO (%s)', i, "
         "CASE WHEN i = 1 AND " +
         (shifted ? "true" : "false") + " THEN 11 ELSE i * 10 END, CASE WHEN i = 0 AND " +
         (shifted ? "true" : "false") +
         " THEN 11 ELSE i * 10 + 10 END); END LOOP; END $$;"
         "CREATE TABLE m (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);"
         "CREATE TABLE m_0 PARTITION OF m FOR VALUES FROM (0) TO (10);"
         "CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (10) TO (20) PARTITION BY LIST (id);"
         "CREATE TABLE m_1a PARTITION OF m_1 FOR VALUES IN (11, 12);"
         "CREATE TABLE m_1b PARTITION OF m_1 DEFAULT;"
         "CREATE TABLE plain_t (id int PRIMARY KEY, v text);"
         "CREATE TABLE events_flat (id bigint, k int, v text);"
         "CREATE TABLE m_1_flat (id int, k int, v text);";
}

std::string Rows(int leaves) {
  return "INSERT INTO events SELECT g, g, 'v' || g FROM generate_series(0, " + std::to_string(leaves * 10 - 1) +
         ") g;"
         "INSERT INTO m SELECT g, g, 'w' || g FROM generate_series(0, 19) g;"
         "INSERT INTO plain_t VALUES (1, 'x');";
}

class PartitionPg : public testing::PreparedTest<PartitionPg> {
 protected:
  friend class testing::PreparedTest<PartitionPg>;
  static void Prepare() {
    vouch_ = testing::BinPath("VOUCH_BIN");
    dir_ = testing::MakeTempDir("vouch_parts");
    db_ = testing::CreateDatabase("vouch_parts");
    Psql(db_, SchemaSql(Leaves(), false) + Rows(Leaves()) +
                  "INSERT INTO events_flat SELECT * FROM events; INSERT INTO m_1_flat SELECT * FROM m_1;");
    for (const char* f : {"c", "d", "t", "p"}) {
      auto r = RunCommand(std::string("PGTZ=UTC pg_dump -F") + f + " -d " + db_ + " -f " + dir_ + "/dump." + f);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static void Psql(const std::string& db, const std::string& sql) {
    std::string file = dir_ + "/setup.sql";
    ASSERT_EQ(RunCommand("cat > " + file + " <<'VOUCH_EOF'\n" + sql + "\nVOUCH_EOF").exit_code, 0);
    auto r = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static std::vector<std::string> Sources() {
    return {testing::DatabaseUri(db_), dir_ + "/dump.c", dir_ + "/dump.d", dir_ + "/dump.t", dir_ + "/dump.p"};
  }
  static json Manifest(const std::string& args) {
    auto r = RunCommand(vouch_ + " digest " + args + " --format json -q");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args + " -q"); }
  static std::string ContentHash(const json& m, const std::string& table) {
    for (const auto& t : m["tables"]) {
      if (t["name"] == table) return t["content_hash"];
    }
    return "";
  }

  static std::string db_, dir_, vouch_;
};
std::string PartitionPg::db_, PartitionPg::dir_, PartitionPg::vouch_;

TEST_F(PartitionPg, EverySourceGivesTheSameLeavesAndRollups) {
  const int leaves = Leaves();
  json reference;
  for (const auto& src : Sources()) {
    SCOPED_TRACE(src);
    json m = Manifest(src);
    ASSERT_TRUE(m.contains("partitioned")) << m.dump().substr(0, 2000);
    // Leaves: every events_i plus m_0, m_1a, m_1b, plus the three plain tables.
    EXPECT_EQ(m["tables"].size(), static_cast<size_t>(leaves + 3 + 3));
    std::map<std::string, json> rollups;
    for (const auto& p : m["partitioned"]) rollups[p["name"]] = p;
    ASSERT_EQ(rollups.size(), 3u);  // events, m and the sub-partitioned m_1
    EXPECT_EQ(rollups["events"]["leaves"], leaves);
    EXPECT_EQ(rollups["events"]["rows"], leaves * 10);
    EXPECT_EQ(rollups["events"]["root"], true);
    EXPECT_EQ(rollups["m"]["leaves"], 3);
    EXPECT_EQ(rollups["m"]["rows"], 20);
    EXPECT_EQ(rollups["m_1"]["leaves"], 2);
    EXPECT_EQ(rollups["m_1"]["root"], false);
    // The roll-up is the digest of the same rows in one unpartitioned table.
    EXPECT_EQ(rollups["events"]["content_hash"], ContentHash(m, "events_flat"));
    EXPECT_EQ(rollups["m_1"]["content_hash"], ContentHash(m, "m_1_flat"));
    for (const auto& t : m["tables"]) {
      if (t["name"] == "m_1a") {
        EXPECT_EQ(t["partition_ancestors"], json::parse(R"([["public","m_1"],["public","m"]])"));
      }
      if (t["name"] == "plain_t") {
        EXPECT_FALSE(t.contains("partition_ancestors"));
      }
    }
    if (reference.is_null()) {
      reference = m;
      continue;
    }
    EXPECT_EQ(m["final_validation_hash"], reference["final_validation_hash"]);
    EXPECT_EQ(m["partitioned"], reference["partitioned"]);
  }
  // The text report lists the roll-ups after the leaves; a manifest with
  // roll-ups loads back and reports the same.
  auto text = Vouch("digest --list all " + Sources()[0] + " -o " + dir_ + "/m.json");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("\nPartitioned tables (the sum of their leaf partitions; not part of the final hash):\n"
                          "  public.events: " +
                          std::to_string(leaves) + " leaf partitions, "),
            std::string::npos)
      << text.out.substr(text.out.rfind("\n| "));
  EXPECT_NE(text.out.find("  public.m_1 (sub-partition): 2 leaf partitions, 10 rows, content hash "),
            std::string::npos);
  auto again = Vouch("digest --list all " + dir_ + "/m.json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.substr(again.out.find("\n| ")), text.out.substr(text.out.find("\n| ")));
  // A roll-up edited in the manifest is caught (it is outside the final hash).
  json edited = json::parse(testing::ReadFileBytes(dir_ + "/m.json"));
  edited["partitioned"][0]["content_hash"] = std::string(32, '0');
  std::ofstream(dir_ + "/edited.json") << edited.dump(2) << "\n";
  auto bad = Vouch("digest " + dir_ + "/edited.json");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("partitioned table public.events: its roll-up does not match its leaf partitions"),
            std::string::npos)
      << bad.err;
}

TEST_F(PartitionPg, TableFilterOnAParentSelectsItsLeaves) {
  const int leaves = Leaves();
  for (const auto& src : Sources()) {
    SCOPED_TRACE(src);
    json all = Manifest(src + " -t events");
    std::set<std::string> names;
    for (const auto& t : all["tables"]) names.insert(t["name"]);
    std::set<std::string> want;
    for (int i = 0; i < leaves; ++i) want.insert("events_" + std::to_string(i));
    EXPECT_EQ(names, want);
    json sub = Manifest(src + " -t public.m_1");
    names.clear();
    for (const auto& t : sub["tables"]) names.insert(t["name"]);
    EXPECT_EQ(names, (std::set<std::string>{"m_1a", "m_1b"}));
    ASSERT_EQ(sub["partitioned"].size(), 2u);  // m_1 and, over the selected leaves only, m
    json rest = Manifest(src + " -T events -T m");
    names.clear();
    for (const auto& t : rest["tables"]) names.insert(t["name"]);
    EXPECT_EQ(names, (std::set<std::string>{"plain_t", "events_flat", "m_1_flat"}));
    EXPECT_FALSE(rest.contains("partitioned"));
  }
}

// A data-only dump through the partition root, restored into a copy whose
// bounds differ: row id=10 lands in events_0. The leaves differ, the roll-up
// is equal: "same rows, different partitions", the moved key named.
TEST_F(PartitionPg, RowsRestoredIntoOtherPartitionsAreNamedAsMoved) {
  std::string copy = testing::CreateDatabase("vouch_parts_moved");
  Psql(copy, SchemaSql(Leaves(), true));
  auto load = RunCommand("pg_dump --data-only --load-via-partition-root -Fc -d " + db_ + " | pg_restore -d " + copy);
  ASSERT_EQ(load.exit_code, 0) << load.err;
  for (const std::string& expected : {testing::DatabaseUri(db_), dir_ + "/dump.c", dir_ + "/dump.p"}) {
    SCOPED_TRACE(expected);
    auto r = Vouch("compare " + expected + " " + testing::DatabaseUri(copy) + " --jobs 2");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("\nPartitioned tables (roll-ups of their leaf partitions):\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("⚠ MOVED: same rows, different partitions (the roll-ups match; 2 of the leaves differ)\n"
                         "    1 row moved between its leaf partitions:\n"
                         "    moved    (id, k)=(10, 10): public.events_1 → public.events_0\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  public.m: 3 leaves expected, 3 actual; 20 rows expected, 20 actual: ✅ MATCH\n"),
              std::string::npos);
    // The leaves still tell their side of it.
    EXPECT_NE(r.out.find("public.events_1: 1 missing, 0 extra, 0 changed (key id, k)\n  missing  (id, k)=(10, 10)\n"),
              std::string::npos);
    EXPECT_NE(r.out.find("Result: ❌ 2 of "), std::string::npos);
  }
  auto j = Vouch("compare " + testing::DatabaseUri(db_) + " " + testing::DatabaseUri(copy) + " --format json");
  EXPECT_EQ(j.exit_code, 1);
  json parts = json::parse(j.out)["partitioned"];
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0]["name"], "events");
  EXPECT_EQ(parts[0]["status"], "MOVED");
  EXPECT_EQ(parts[0]["same_rows_different_partitions"], true);
  EXPECT_EQ(parts[0]["differing_leaves"], json::parse(R"(["public.events_0", "public.events_1"])"));
  EXPECT_EQ(parts[0]["moved"]["keys"], json::parse(R"(["(id, k)=(10, 10): public.events_1 → public.events_0"])"));
  // Against a manifest the roll-up still tells; the rows cannot be named.
  auto m = Vouch("digest " + testing::DatabaseUri(db_) + " -o " + dir_ + "/before.json");
  ASSERT_EQ(m.exit_code, 0);
  auto fm = Vouch("compare " + dir_ + "/before.json " + testing::DatabaseUri(copy));
  EXPECT_EQ(fm.exit_code, 1);
  EXPECT_NE(fm.out.find("⚠ MOVED: same rows, different partitions"), std::string::npos) << fm.out;
  EXPECT_NE(fm.out.find("    moved rows not located: a manifest holds digests, not rows"), std::string::npos);
  // A changed partition key is a changed row, not a move.
  Psql(copy, "UPDATE events SET k = 5 WHERE id = 3 AND k = 3;");
  auto changed = Vouch("compare " + testing::DatabaseUri(db_) + " " + testing::DatabaseUri(copy));
  EXPECT_EQ(changed.exit_code, 1);
  size_t line = changed.out.find("\n  public.events: ");
  ASSERT_NE(line, std::string::npos) << changed.out;
  EXPECT_NE(changed.out.substr(line, changed.out.find('\n', line + 1) - line).find(": ❌ MISMATCH"), std::string::npos)
      << changed.out;
  testing::DropDatabase(copy);
}

}  // namespace
}  // namespace vouch
