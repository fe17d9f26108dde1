// Scale-out (issue 8): `vouch digest --shard k/N` reads a deterministic 1/N
// of every table, and `vouch merge` adds the N manifests into exactly the
// single run's digest: the same FINAL_VALIDATION_HASH for N = 1, 2, 3, 7, from
// a database (the server selects the rows) and from dumps (vouch selects
// them). Incomplete or mixed sets of shards are refused (exit 2).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

class ShardPg : public testing::PreparedTest<ShardPg> {
 protected:
  friend class testing::PreparedTest<ShardPg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_shard", 0.005, 8, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_shard");
    auto d = RunCommand("cd " + dir_ + " && PGTZ=UTC pg_dump -Fp -d " + db_ +
                        " | gzip > dump.sql.gz && pg_dump -Fc -d " + db_ + " -f dump.custom");
    ASSERT_EQ(d.exit_code, 0) << d.err;
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) {
    return RunCommand("cd " + dir_ + " && " + vouch_ + " " + args);
  }
  static nlohmann::json Manifest(const std::string& file) {
    return nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/" + file));
  }
  // Digests SOURCE whole and in N shards; returns (whole, merged) manifests.
  static std::pair<nlohmann::json, nlohmann::json> WholeAndMerged(const std::string& source, int n,
                                                                  const std::string& tag) {
    auto whole = Vouch("digest " + source + " -q -o " + tag + "-whole.json");
    EXPECT_EQ(whole.exit_code, 0) << whole.err;
    std::string parts;
    for (int k = 0; k < n; ++k) {
      std::string part = tag + "-" + std::to_string(n) + "-" + std::to_string(k) + ".json";
      auto r = Vouch("digest " + source + " -q --jobs 2 --shard " + std::to_string(k) + "/" + std::to_string(n) +
                     " -o " + part);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      parts += " " + part;
    }
    auto merged = Vouch("merge" + parts + " -o " + tag + "-merged.json");
    EXPECT_EQ(merged.exit_code, 0) << merged.err;
    return {Manifest(tag + "-whole.json"), Manifest(tag + "-merged.json")};
  }
  static std::string db_, dir_, vouch_;
};
std::string ShardPg::db_, ShardPg::dir_, ShardPg::vouch_;

// A manifest's bucket list (32 hex digits each) folded down to `count`
// buckets: bucket j of count = the sum of the `n / count` buckets from j * n /
// count on (docs/digest-format.md). Written here from the definition.
std::vector<unsigned __int128> FoldedBuckets(const std::string& hex, size_t count) {
  std::vector<unsigned __int128> out(count, 0);
  const size_t n = hex.size() / 32;
  for (size_t i = 0; i < n; ++i) {
    unsigned __int128 b = 0;
    for (char c : hex.substr(32 * i, 32)) b = (b << 4) | static_cast<unsigned>(std::stoi(std::string(1, c), nullptr, 16));
    out[i / (n / count)] += b;  // mod 2^128
  }
  return out;
}

// Same buckets at the coarser of the two resolutions (a shard has fewer rows
// than the whole, so its digest, and the merge of such, may be coarser).
// A manifest leaves out a single bucket (version 4: it is the sum) and its
// count (version 5).
std::string Buckets(const nlohmann::json& t) {
  return t.contains("buckets") ? t["buckets"].get<std::string>() : t["sum"].get<std::string>();
}
size_t BucketCount(const nlohmann::json& t) { return t.value("bucket_count", size_t{1}); }
bool SameBuckets(const nlohmann::json& a, const nlohmann::json& b) {
  const size_t n = std::min(BucketCount(a), BucketCount(b));
  return FoldedBuckets(Buckets(a), n) == FoldedBuckets(Buckets(b), n);
}

TEST_F(ShardPg, DatabaseShardsMergeToTheSingleRunsHash) {
  for (int n : {1, 2, 3, 7}) {
    auto [whole, merged] = WholeAndMerged(testing::DatabaseUri(db_), n, "live");
    EXPECT_EQ(merged["final_validation_hash"], whole["final_validation_hash"]) << "N=" << n;
    ASSERT_EQ(merged["tables"].size(), whole["tables"].size());
    for (size_t i = 0; i < whole["tables"].size(); ++i) {
      const auto &m = merged["tables"][i], &w = whole["tables"][i];
      EXPECT_EQ(m["name"], w["name"]);
      EXPECT_EQ(m["rows"], w["rows"]) << "N=" << n << " table " << w["name"];
      EXPECT_EQ(m["sum"], w["sum"]) << "N=" << n << " table " << w["name"];
      EXPECT_LE(BucketCount(m), BucketCount(w)) << "N=" << n << " table " << w["name"];
      EXPECT_TRUE(SameBuckets(m, w)) << "N=" << n << " table " << w["name"];
    }
  }
}

TEST_F(ShardPg, ShardsReadThroughDifferentHostNamesMerge) {
  // Replicas of one database have different names: the shards still add up.
  const auto& vars = testing::TestPg().vars;
  std::string other = "'host=replica-b hostaddr=127.0.0.1 port=" + vars.at("PGPORT") + " user=" + vars.at("PGUSER") +
                      " dbname=" + db_ + "'";
  ASSERT_EQ(Vouch("digest " + testing::DatabaseUri(db_) + " -q -o names-whole.json").exit_code, 0);
  ASSERT_EQ(Vouch("digest " + testing::DatabaseUri(db_) + " -q --shard 0/2 -o names-0.json").exit_code, 0);
  auto b = Vouch("digest " + other + " -q --shard 1/2 -o names-1.json");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto m = Vouch("merge names-0.json names-1.json -o names-merged.json");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto merged = Manifest("names-merged.json");
  EXPECT_EQ(merged["final_validation_hash"], Manifest("names-whole.json")["final_validation_hash"]);
  std::string where = merged["source"]["properties"]["shard_locations"];
  EXPECT_NE(where.find("replica-b"), std::string::npos) << where;
}

TEST_F(ShardPg, EachDatabaseShardReadsOnlyItsPart) {
  // The server selects the rows: each shard holds part of a large table,
  // the parts add up, and none is empty.
  uint64_t total = 0;
  auto whole = Vouch("digest " + testing::DatabaseUri(db_) + " -q --format json -t audit_log");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  uint64_t all = nlohmann::json::parse(whole.out)["tables"][0]["rows"];
  for (int k = 0; k < 3; ++k) {
    auto r = Vouch("digest " + testing::DatabaseUri(db_) + " -q --format json -t audit_log --shard " +
                   std::to_string(k) + "/3");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    uint64_t rows = j["tables"][0]["rows"];
    EXPECT_GT(rows, all / 5) << k;
    EXPECT_LT(rows, all / 2) << k;
    EXPECT_EQ(j["source"]["properties"]["shard"], std::to_string(k) + "/3");
    total += rows;
  }
  EXPECT_EQ(total, all);
}

TEST_F(ShardPg, DumpShardsMergeToTheSingleRunsHash) {
  for (auto [file, n] : {std::pair{"dump.sql.gz", 3}, std::pair{"dump.custom", 2}, std::pair{"dump.custom", 7}}) {
    auto [whole, merged] = WholeAndMerged(file, n, std::string(file) + "-" + std::to_string(n));
    EXPECT_EQ(merged["final_validation_hash"], whole["final_validation_hash"]) << file << " N=" << n;
  }
}

TEST_F(ShardPg, IncompleteOrMixedShardSetsAreRefused) {
  const std::string src = testing::DatabaseUri(db_);
  for (const char* k : {"0/3", "1/3", "2/3", "0/2"}) {
    std::string name = std::string("mix-") + k[0] + "of" + k[2] + ".json";
    ASSERT_EQ(Vouch("digest " + src + " -q --shard " + k + " -o " + name).exit_code, 0);
  }
  auto missing = Vouch("merge mix-0of3.json mix-2of3.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("shards missing: 1/3"), std::string::npos) << missing.err;
  auto twice = Vouch("merge mix-0of3.json mix-1of3.json mix-1of3.json mix-2of3.json");
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("is also in"), std::string::npos) << twice.err;
  auto mixed = Vouch("merge mix-0of3.json mix-1of3.json mix-0of2.json");
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("2-way split"), std::string::npos) << mixed.err;
  ASSERT_EQ(Vouch("digest " + src + " -q -o plain.json").exit_code, 0);
  auto plain = Vouch("merge plain.json");
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_NE(plain.err.find("not a shard manifest"), std::string::npos) << plain.err;
  for (const char* bad : {"3/3", "1/0", "x/2", "1", "-1/2"}) {
    auto r = Vouch("digest " + src + " -q --shard " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad;
  }
}

}  // namespace
}  // namespace vouch
