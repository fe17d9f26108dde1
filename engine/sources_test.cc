// compare, merge, verify-archive and drill over sources held in memory: the
// engine's entry points without a database or a file.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
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

TEST(MemorySources, DrillNamesTheOrphansOfAForeignKey) {
  ForeignKey fk;
  fk.name = "child_v_fkey";
  fk.schema = "public";
  fk.table = "child";
  fk.columns = {"v"};
  fk.ref_schema = "public";
  fk.ref_table = "parent";
  fk.ref_columns = {"id"};
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
