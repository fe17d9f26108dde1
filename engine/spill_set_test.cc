// SpillSet (engine/src/drill/spill_set.h) against std::sort and std::set on
// the same values: in memory, spilled to many runs (merged in several
// passes), and when a run cannot be written or read.
#include "drill/spill_set.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace vouch::drill {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// A fresh empty directory for one test's spill runs, removed afterwards.
class SpillSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "vouch_spill_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t Entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }

  std::string dir_;
};

// Duplicates, both extremes and values either side of them.
std::vector<uint64_t> Values(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> v;
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: v.push_back(rng() % 64); break;            // small, often repeated
      case 1: v.push_back(kMax - rng() % 4); break;      // at the top, repeated
      case 2: v.push_back(rng() % 2 ? 0 : kMax); break;  // the extremes themselves
      default: v.push_back(rng()); break;
    }
  }
  return v;
}

std::vector<uint64_t> ReadAll(SpillSet& set) {
  SortedStream stream(set);
  EXPECT_TRUE(stream.Open().ok());
  std::vector<uint64_t> out;
  uint64_t v;
  while (stream.Next(v)) out.push_back(v);
  EXPECT_TRUE(stream.status().ok()) << stream.status().message();
  return out;
}

// Appends in uneven pieces, as Fold does chunk by chunk.
void AppendAll(SpillSet& set, const std::vector<uint64_t>& v) {
  for (size_t i = 0; i < v.size();) {
    size_t n = std::min<size_t>(v.size() - i, 1 + (i * 7919) % 700);
    ASSERT_TRUE(set.Append(v.data() + i, n).ok());
    i += n;
  }
}

TEST_F(SpillSetTest, SpilledManyRunsReadAsSortedAsInMemory) {
  const std::vector<uint64_t> a = Values(20000, 1), b = Values(15000, 2);
  for (size_t limit : {size_t{1} << 30, size_t{2048}}) {
    SCOPED_TRACE(limit);
    SpillBudget budget(limit, dir_);
    SpillSet multi(budget, false), unique(budget, true);
    AppendAll(multi, a);
    AppendAll(unique, b);
    EXPECT_EQ(multi.appended(), a.size());
    if (limit < 4096) {
      // Many more runs than one merge reads at once: several passes.
      EXPECT_GT(multi.runs(), 20u);
      EXPECT_GT(unique.runs(), 20u);
      EXPECT_LE(budget.used(), limit);
    } else {
      EXPECT_EQ(budget.runs_written(), 0u);
      EXPECT_TRUE(budget.dir().empty());
    }
    std::vector<uint64_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(ReadAll(multi), sorted);
    std::set<uint64_t> distinct(b.begin(), b.end());
    EXPECT_EQ(ReadAll(unique), std::vector<uint64_t>(distinct.begin(), distinct.end()));
    // Reading again (after the passes merged the runs) gives the same.
    EXPECT_EQ(ReadAll(multi), sorted);
  }
}

TEST_F(SpillSetTest, ProbeAbsentAgreesWithASetWithinAndBeyondTheBudget) {
  std::vector<uint64_t> present = Values(12000, 3), probes = Values(9000, 4);
  present.push_back(kMax);
  probes.push_back(0);  // absent at the bottom: present has no 0 unless drawn
  present.erase(std::remove(present.begin(), present.end(), uint64_t{0}), present.end());
  // Reference, independent of the merge: a std::set lookup per probe.
  const std::set<uint64_t> parent(present.begin(), present.end());
  std::map<uint64_t, uint64_t> expected;
  for (uint64_t p : probes) {
    if (!parent.contains(p)) ++expected[p];
  }
  ASSERT_TRUE(expected.contains(0));
  for (size_t limit : {size_t{256} << 20, size_t{1024}}) {
    SCOPED_TRACE(limit);
    SpillBudget budget(limit, dir_);
    SpillSet p(budget, true), q(budget, false);
    AppendAll(p, present);
    AppendAll(q, probes);
    EXPECT_EQ(limit<4096, budget.runs_written()> 0);
    std::map<uint64_t, uint64_t> absent;
    uint64_t last = 0, distinct = 0;
    bool ascending = true;
    ASSERT_TRUE(ProbeAbsent(p, q, &distinct, [&](uint64_t v, uint64_t n) {
                  ascending &= absent.empty() || v > last;
                  last = v;
                  absent[v] += n;
                }).ok());
    EXPECT_TRUE(ascending);
    EXPECT_EQ(distinct, parent.size());
    EXPECT_EQ(absent, expected);
  }
}

TEST_F(SpillSetTest, TheSpillDirectoryGoesWithTheBudget) {
  {
    SpillBudget budget(1024, dir_);
    SpillSet set(budget, false);
    AppendAll(set, Values(5000, 5));
    ASSERT_FALSE(budget.dir().empty());
    EXPECT_EQ(fs::path(budget.dir()).parent_path(), fs::path(dir_));
    EXPECT_EQ(Entries(), 1u);
    EXPECT_GT(std::distance(fs::directory_iterator(budget.dir()), {}), 1);
  }
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(SpillSetTest, AnUnwritableDirectoryIsAnErrorNamingIt) {
  const std::string missing = dir_ + "/no/such/dir";
  SpillBudget budget(1024, missing);
  SpillSet set(budget, false);
  std::vector<uint64_t> v = Values(5000, 6);
  Status s = set.Append(v.data(), v.size());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.message();
}

TEST_F(SpillSetTest, ALostRunIsAnErrorNotAShortResult) {
  SpillBudget budget(1024, dir_);
  SpillSet p(budget, true), q(budget, false);
  AppendAll(p, Values(3000, 7));
  AppendAll(q, Values(3000, 8));
  ASSERT_GT(p.runs(), 0u);
  const std::string run = (fs::directory_iterator(budget.dir()))->path().string();
  fs::remove(run);
  uint64_t distinct = 0;
  Status s = ProbeAbsent(p, q, &distinct, [](uint64_t, uint64_t) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(run), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vouch::drill
