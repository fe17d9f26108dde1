// compare, merge, verify-archive and drill over sources held in memory: the
// engine's entry points without a database or a file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "vouch/engine/compare.h"
#include "vouch/engine/drill.h"
#include "vouch/engine/merge.h"
#include "vouch/engine/source.h"
#include "vouch/engine/verify_archive.h"
#include "vouch/readers/random_access_file.h"

namespace vouch {
namespace {

MemoryTable Table(const std::string& name, const std::string& rows) {
  MemoryTable t;
  t.info.schema = "public";
  t.info.name = name;
  t.info.SetColumns({"id", "v"});
  t.info.key_columns = {"id"};
  t.rows = rows;
  return t;
}

DigestOptions OneJob() {
  DigestOptions o;
  o.jobs = 1;
  return o;
}

TEST(MemorySources, CompareNamesTheRowsThatDiffer) {
  auto expected = MemorySource("expected", {Table("t", "1\ta\n2\tb\n3\tc\n"), Table("u", "1\tx\n")});
  auto actual = MemorySource("actual", {Table("t", "1\ta\n2\tB\n4\td\n"), Table("u", "1\tx\n")});
  CompareOptions options;
  options.digest = OneJob();
  auto r = Compare(*expected, *actual, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->tables.size(), 2u);
  const TableComparison& t = r->tables[0];
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.status, TableStatus::kMismatch);
  EXPECT_TRUE(t.rows_located) << t.not_located_reason;
  EXPECT_EQ(t.missing_keys, std::vector<std::string>{"id=3"});
  EXPECT_EQ(t.extra_keys, std::vector<std::string>{"id=4"});
  EXPECT_EQ(t.changed_keys, std::vector<std::string>{"id=2"});
  EXPECT_EQ(r->tables[1].status, TableStatus::kMatch);
  const Outcome o = r->outcome();
  ASSERT_EQ(o.findings.size(), 1u);
  EXPECT_EQ(o.findings[0].kind, FindingKind::kTableDiffers);
  EXPECT_EQ(ExitCode(o), 1);
}

TEST(MemorySources, EqualSidesCompareClean) {
  auto a = MemorySource("a", {Table("t", "1\ta\n2\tb\n")});
  auto b = MemorySource("b", {Table("t", "2\tb\n1\ta\n")});  // row order does not matter
  CompareOptions options;
  options.digest = OneJob();
  auto r = Compare(*a, *b, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ExitCode(r->outcome()), 0);
  EXPECT_EQ(r->expected.FinalHashHex(), r->actual.FinalHashHex());
}

TEST(MemorySources, ShardsMergeIntoTheWholeDigest) {
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += std::to_string(i) + "\tv" + std::to_string(i) + "\n";
  auto whole = DigestSource(*MemorySource("m", {Table("t", rows)}), OneJob());
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  std::vector<std::pair<std::string, DigestReport>> parts;
  for (uint32_t k = 0; k < 2; ++k) {
    DigestOptions o = OneJob();
    o.shard_index = k;
    o.shard_count = 2;
    auto part = DigestSource(*MemorySource("m", {Table("t", rows)}), o);
    ASSERT_TRUE(part.ok()) << part.status().message();
    EXPECT_NE(part->FinalHashHex(), whole->FinalHashHex());
    parts.emplace_back("part" + std::to_string(k), std::move(part).value());
  }
  auto one = MergeShards({parts[0]});
  EXPECT_TRUE(!one.ok() || ExitCode(one->outcome()) != 0) << "one shard of two is not the whole";
  auto merged = MergeShards(std::move(parts));
  ASSERT_TRUE(merged.ok()) << merged.status().message();
  EXPECT_EQ(merged->FinalHashHex(), whole->FinalHashHex());
  EXPECT_EQ(ExitCode(merged->outcome()), 0);
}

TEST(MemorySources, DrillFindsTheGapTheRestoreLeft) {
  auto source = MemorySource("source", {Table("t", "1\ta\n2\tb\n3\tc\n4\td\n")});
  auto restored = MemorySource("restored", {Table("t", "1\ta\n2\tb\n4\td\n")});
  DrillOptions options;
  options.compare.digest = OneJob();
  options.checks.gap_columns = {"public.t.id"};
  options.checks.now_us = 1;
  auto r = RunDrill(*source, *restored, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->restored_checks.gaps.size(), 1u);
  EXPECT_EQ(r->restored_checks.gaps[0].result.gaps, 1u);
  EXPECT_EQ(r->source_checks.gaps[0].result.gaps, 0u);
  EXPECT_EQ(ExitCode(r->outcome()), 1);
  bool gap_failed = false;
  for (const auto& f : r->outcome().findings) gap_failed |= f.subject.rfind("Sequence Gaps", 0) == 0;
  EXPECT_TRUE(gap_failed);

  auto same = RunDrill(*MemorySource("source", {Table("t", "1\ta\n2\tb\n")}),
                       *MemorySource("restored", {Table("t", "1\ta\n2\tb\n")}), options);
  ASSERT_TRUE(same.ok()) << same.status().message();
  for (const auto& f : same->outcome().findings) ADD_FAILURE() << f.subject << ": " << f.detail;
}

// public.child (v) REFERENCES public.parent (id).
ForeignKey ChildVReferencesParentId() {
  ForeignKey fk;
  fk.name = "child_v_fkey";
  fk.schema = "public";
  fk.table = "child";
  fk.columns = {"v"};
  fk.ref_schema = "public";
  fk.ref_table = "parent";
  fk.ref_columns = {"id"};
  return fk;
}

TEST(MemorySources, DrillNamesTheOrphansOfAForeignKey) {
  ForeignKey fk = ChildVReferencesParentId();
  auto source = MemorySource("source", {Table("parent", "1\tp\n2\tq\n"), Table("child", "10\t1\n11\t2\n")}, {fk});
  // The restore lost parent 2 and its constraint: child 11 is an orphan.
  auto restored = MemorySource("restored", {Table("parent", "1\tp\n"), Table("child", "10\t1\n11\t2\n")});
  DrillOptions options;
  options.compare.digest = OneJob();
  options.checks.now_us = 1;
  auto r = RunDrill(*source, *restored, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->restored_checks.orphans.size(), 1u);  // the source's key, checked on the restore
  const OrphanCheck& o = r->restored_checks.orphans[0];
  EXPECT_EQ(o.orphans, 1u);
  EXPECT_EQ(o.samples, std::vector<std::string>{"id=11 (v=2)"});  // read again through the source
  EXPECT_EQ(ExitCode(r->outcome()), 1);
}

void ExpectSameOrphans(const std::vector<OrphanCheck>& a, const std::vector<OrphanCheck>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].Name());
    EXPECT_EQ(a[i].Name(), b[i].Name());
    EXPECT_EQ(a[i].not_checked, b[i].not_checked);
    EXPECT_EQ(a[i].child_rows, b[i].child_rows);
    EXPECT_EQ(a[i].null_refs, b[i].null_refs);
    EXPECT_EQ(a[i].parent_keys, b[i].parent_keys);
    EXPECT_EQ(a[i].orphans, b[i].orphans);
    EXPECT_EQ(a[i].samples, b[i].samples);
  }
}

// A drill whose orphan key sets exceed --memory-limit spills them and finds
// the same orphans, with the same samples, as one that keeps them in memory;
// both agree with a std::set reference; the spill directory is gone after.
TEST(MemorySources, DrillOrphansAreTheSameSpilledAsInMemory) {
  const std::string tmp = ::testing::TempDir() + "vouch_drill_spill_" + std::to_string(getpid());
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  std::string source_parents, restored_parents, children;
  std::set<std::string> restored_ids;
  for (int i = 0; i < 3000; ++i) {
    source_parents += std::to_string(i) + "\tp\n";
    if (i % 7 == 3) continue;  // lost by the restore
    restored_parents += std::to_string(i) + "\tp\n";
    restored_ids.insert(std::to_string(i));
  }
  std::vector<std::string> expected_samples;  // orphans of the restore
  uint64_t expected_nulls = 0;
  for (int i = 0; i < 8000; ++i) {
    std::string v = i % 11 == 0   ? "\\N"
                    : i % 13 == 0 ? std::to_string(5000 + i % 50)  // never a parent, repeated
                                  : std::to_string((i * 37) % 3000);
    children += std::to_string(i) + "\t" + v + "\n";
    if (v == "\\N") {
      ++expected_nulls;
    } else if (!restored_ids.contains(v)) {
      expected_samples.push_back("id=" + std::to_string(i) + " (v=" + v + ")");
    }
  }
  std::sort(expected_samples.begin(), expected_samples.end());
  ASSERT_GT(expected_samples.size(), 1000u);
  ForeignKey fk = ChildVReferencesParentId();
  ForeignKey declared = fk;  // a second key, sharing the budget
  declared.name.clear();
  declared.table = "child2";
  auto run = [&](size_t memory_limit, const std::string& temp_dir) {
    auto source = MemorySource(
        "source", {Table("parent", source_parents), Table("child", children), Table("child2", children)}, {fk});
    auto restored = MemorySource(
        "restored", {Table("parent", restored_parents), Table("child", children), Table("child2", children)});
    DrillOptions options;
    options.compare.digest = OneJob();
    options.compare.digest.chunk_size = 4096;  // many chunks, many folds
    options.checks.now_us = 1;
    options.checks.max_samples = 100000;  // every orphan named
    options.checks.declared_fks = {declared};
    options.checks.memory_limit = memory_limit;
    options.checks.temp_dir = temp_dir;
    return RunDrill(*source, *restored, options);
  };
  auto in_memory = run(DrillOptions().checks.memory_limit, tmp + "/unused");  // never made: nothing spills
  ASSERT_TRUE(in_memory.ok()) << in_memory.status().message();
  auto spilled = run(8192, tmp);
  ASSERT_TRUE(spilled.ok()) << spilled.status().message();
  EXPECT_TRUE(std::filesystem::is_empty(tmp)) << "the spill directory is left behind";

  ASSERT_EQ(in_memory->restored_checks.orphans.size(), 2u);
  for (const OrphanCheck& o : in_memory->restored_checks.orphans) {
    EXPECT_EQ(o.orphans, expected_samples.size());
    EXPECT_EQ(o.null_refs, expected_nulls);
    EXPECT_EQ(o.child_rows, 8000u);
    EXPECT_EQ(o.parent_keys, restored_ids.size());
    EXPECT_EQ(o.samples, expected_samples);
  }
  ExpectSameOrphans(in_memory->restored_checks.orphans, spilled->restored_checks.orphans);
  ExpectSameOrphans(in_memory->source_checks.orphans, spilled->source_checks.orphans);
  EXPECT_EQ(ExitCode(spilled->outcome()), ExitCode(in_memory->outcome()));

  // The small limit did spill: where no directory can be made it fails, naming the place.
  auto cannot = run(8192, tmp + "/missing");
  ASSERT_FALSE(cannot.ok());
  EXPECT_EQ(cannot.status().code(), StatusCode::kIoError);
  EXPECT_NE(cannot.status().message().find(tmp + "/missing"), std::string::npos) << cannot.status().message();
  std::filesystem::remove_all(tmp);
}

std::string ReadCorpus(const std::string& name) {
  std::ifstream in(std::string(VOUCH_SOURCE_DIR) + "/readers/fuzz/corpus/archive/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(MemorySources, VerifyArchiveReadsAnArchiveInMemoryAndNamesDamage) {
  // A real pg_dump -Fc archive (the fuzz seed; its first byte picks the fuzzer's mode).
  const std::string archive = ReadCorpus("fz0").substr(1);
  ASSERT_GT(archive.size(), 1000u);
  ArchiveOptions ao;
  ao.jobs = 1;
  auto good = VerifyArchive(OpenCustomArchive(MakeMemoryFile(archive, "good.dump"), ao), "good.dump", OneJob());
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_FALSE(good->damage.has_value()) << good->damage->detail;
  EXPECT_FALSE(good->digest.tables.empty());
  EXPECT_EQ(ExitCode(good->outcome()), 0);

  const std::string cut = archive.substr(0, archive.size() - 200);
  auto bad = VerifyArchive(OpenCustomArchive(MakeMemoryFile(cut, "cut.dump"), ao), "cut.dump", OneJob());
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  ASSERT_TRUE(bad->damage.has_value());
  EXPECT_EQ(bad->damage->kind, FindingKind::kDamaged);
  EXPECT_EQ(ExitCode(bad->outcome()), 1);
}

}  // namespace
}  // namespace vouch
