// The drill report renderings on a report built by hand: JUnit counts and
// escaping, Markdown sections and cell escaping, the text verdict, valid JSON,
// and each check's line worded from its typed result.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "render/drill.h"

namespace vouch::cli {
namespace {

DrillReport SampleReport() {
  DrillReport r;
  r.source = "postgresql://vouch@db1/app";
  r.restored = "postgresql://vouch@db2/app_restored";
  r.now_us = *ParseTimestampText("2025-09-30 17:28:00Z");
  r.seconds = 3.5;

  TableComparison agents;
  agents.schema = "public";
  agents.name = "agents";
  agents.expected_rows = agents.actual_rows = 1247;
  agents.expected_hash = agents.actual_hash = ContentHash::FromHex("7f8a9b2c4d5e6f1a8b9c2d3e4f5a6b7c");
  TableComparison tasks;
  tasks.schema = "public";
  tasks.name = "tasks";
  tasks.status = TableStatus::kMismatch;
  tasks.expected_rows = 89432;
  tasks.actual_rows = 89431;
  tasks.expected_hash = ContentHash::FromHex("9c8b7a6f5e4d3c2b1a9f8e7d6c5b4a39");
  tasks.actual_hash = ContentHash::FromHex("0c8b7a6f5e4d3c2b1a9f8e7d6c5b4a39");
  tasks.key_columns = {"id"};
  tasks.rows_located = true;
  tasks.missing = 1;
  tasks.missing_keys = {"id=7"};
  r.compare.tables = {agents, tasks};

  for (SourceChecks* side : {&r.source_checks, &r.restored_checks}) {
    side->ran = true;
    TableTemporal t;
    t.schema = "public";
    t.name = "agents";
    t.rows = 1247;
    t.record_column = "created_at";
    TimeColumnStats c;
    c.column = "created_at";
    c.values = 1247;
    c.min_us = *ParseTimestampText("2025-09-15 08:22:15Z");
    c.max_us = *ParseTimestampText("2025-09-30 16:48:33Z");
    if (side == &r.restored_checks) {
      c.future = 1;
      c.future_samples = {"id=7 & name=\"<a|b>\" 'x'"};
    }
    t.columns.push_back(c);
    side->temporal.push_back(t);
    ChainCheck chain;
    chain.spec.table = "public.audit_log";
    chain.description = DescribeChainSpec(chain.spec);
    chain.found = true;
    chain.result.entries = 100;
    chain.result.min_seq = 1;
    chain.result.max_seq = 100;
    chain.result.head_hash = "a1b2c3d4e5f6789abc123def456789ab";
    chain.gaps.values = chain.gaps.distinct = 100;
    chain.gaps.min = 1;
    chain.gaps.max = 100;
    chain.gaps.max_gap = 1;
    side->chains.push_back(chain);
  }
  r.source_final_hash = std::string(64, 'a');
  r.restored_final_hash = std::string(64, 'b');
  r.checks.push_back({"Data Integrity", "public.agents content", true, DrillSubject::kContent, 0, ""});
  r.checks.push_back({"Data Integrity", "public.tasks content", false, DrillSubject::kContent, 1, "missing=1"});
  r.checks.push_back({"Audit Chain", "public.audit_log chain", true, DrillSubject::kChain, 0, ""});
  r.checks.push_back({"Temporal", "future timestamps", false, DrillSubject::kFutureTimestamps, 0, "future=1"});
  return r;
}

TEST(DrillOutput, JUnitCountsFailuresAndEscapes) {
  std::string x = DrillJUnit(SampleReport());
  EXPECT_NE(x.find("<testsuite name=\"vouch drill\" tests=\"4\" failures=\"2\""), std::string::npos) << x;
  EXPECT_NE(x.find("<testcase classname=\"vouch.drill.Data Integrity\" name=\"public.tasks content\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<testcase classname=\"vouch.drill.Audit Chain\" name=\"public.audit_log chain\"/>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<failure message=\"89,432 rows expected, 89,431 restored (count −1); 1 missing: id=7\""),
            std::string::npos)
      << x;
  const std::string escaped = "id=7 &amp; name=&quot;&lt;a|b&gt;&quot; &apos;x&apos;";
  const std::string future = "1 violation: public.agents.created_at: 1 (" + escaped + ")";
  EXPECT_NE(x.find("<failure message=\"" + future + "\""), std::string::npos) << x;
  EXPECT_NE(x.find(">" + future + "</failure>"), std::string::npos) << x;
  EXPECT_EQ(x.find("<a|b>"), std::string::npos);
  size_t failures = 0;
  for (size_t p = x.find("<failure "); p != std::string::npos; p = x.find("<failure ", p + 1)) ++failures;
  EXPECT_EQ(failures, 2u);
}

TEST(DrillOutput, MarkdownHasTheReportSections) {
  std::string md = DrillMarkdown(SampleReport());
  for (const char* title :
       {"## Database Restore Evidence", "### Critical Table Row Counts", "### Data Integrity Checksums",
        "### Audit Chain Verification", "## Integrity Validation Results", "### Temporal Consistency",
        "### Referential Integrity", "### Final Validation Hash", "## Checks",
        "| Table Name | Row Count | Earliest Record | Latest Record |", "| Table | Content Hash | Status |",
        "| Section | Check | Result | Detail |", "- **Total Entries**: 100",
        "- **Max Gap Size**: 1 (Normal sequential)", "FINAL_VALIDATION_HASH: bbbb"}) {
    EXPECT_NE(md.find(title), std::string::npos) << title << "\n" << md;
  }
  EXPECT_NE(md.find("| public.agents | 1,247 | 2025-09-15 08:22:15 | 2025-09-30 16:48:33 |"), std::string::npos) << md;
  EXPECT_NE(md.find("89,431 ❌ (source: 89,432, count −1)"), std::string::npos) << md;
  EXPECT_NE(md.find("| public.tasks | 0c8b7a6f5e4d3c2b1a9f8e7d6c5b4a39 | ❌ MISMATCH |"), std::string::npos) << md;
  // A '|' in a cell is escaped, so the Checks table keeps its four columns.
  EXPECT_NE(md.find("name=\"\\<a\\|b\\>\" 'x') |\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("<a|b>"), std::string::npos);
  // No placeholder text: nothing that was not measured is claimed.
  EXPECT_EQ(md.find("RTO/RPO Analysis"), std::string::npos);
}

TEST(DrillOutput, TextGivesTheVerdictAndTheFailedChecks) {
  std::string t = DrillText(SampleReport());
  EXPECT_NE(t.find("Overall Result: ❌ FAIL — 2 of 4 checks failed\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  ❌ Data Integrity · public.tasks content: 89,432 rows expected, 89,431 restored (count −1); "
                   "1 missing: id=7\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("count −1"), std::string::npos) << t;
  EXPECT_NE(t.find("    missing  id=7\n"), std::string::npos) << t;
  EXPECT_NE(t.find("Max Gap Size:       1 (Normal sequential)"), std::string::npos) << t;
  EXPECT_NE(t.find("FINAL_VALIDATION_HASH restored: " + std::string(64, 'b') + "  ❌ MISMATCH"), std::string::npos) << t;

  DrillReport ok = SampleReport();
  ok.checks.pop_back();
  ok.checks.erase(ok.checks.begin() + 1);
  EXPECT_NE(DrillText(ok).find("Overall Result: ✅ PASS — all 2 checks passed\n"), std::string::npos);
}

TEST(DrillOutput, TextSaysAWrongSpecIsNotTampering) {
  DrillReport r = SampleReport();
  ChainCheck& c = r.restored_checks.chains[0];
  c.result.link_failures = c.result.entries;
  std::string t = DrillText(r);
  EXPECT_NE(t.find("the chain spec is probably wrong"), std::string::npos) << t;
  EXPECT_NE(t.find("not evidence of tampering"), std::string::npos) << t;
}

TEST(DrillOutput, JsonIsCompleteAndValid) {
  DrillReport r = SampleReport();
  r.rpo_us = 12 * 60 * 1000000LL;
  r.rpo_target_us = 15 * 60 * 1000000LL;
  auto j = nlohmann::json::parse(DrillJson(r));
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["checks"].size(), 4u);
  EXPECT_EQ(j["checks"][1]["passed"], false);
  EXPECT_EQ(j["checks"][2]["detail"], "100 entries, head a1b2c3d4e5f6789abc123def456789ab");
  EXPECT_EQ(j["tables"][1]["row_delta"], -1);
  EXPECT_EQ(j["tables"][1]["missing"]["keys"][0], "id=7");
  EXPECT_EQ(j["tables"][0]["earliest_record"]["utc"], "2025-09-15 08:22:15.000000");
  EXPECT_EQ(j["chains"]["restored"][0]["spec"]["algorithm"], "sha256");
  EXPECT_EQ(j["chains"]["restored"][0]["head_hash"], "a1b2c3d4e5f6789abc123def456789ab");
  EXPECT_EQ(j["rpo"]["seconds"], 720.0);
  EXPECT_EQ(j["rpo"]["passed"], true);
  EXPECT_EQ(j["rto"]["measured"], false);
  EXPECT_EQ(j["final_validation_hash"]["match"], false);
}

TEST(DrillOutput, AFailingIndexIsNamedInEveryFormat) {
  DrillReport r = SampleReport();
  IndexCheckResult x;
  x.checked = 7;
  x.failures.push_back({"public.idx_t_v", "public.idx_t", "item order invariant violated for index \"idx_t_v\""});
  r.index_checks = x;
  r.checks.push_back(
      {"Index Integrity", "B-tree indexes (amcheck)", false, DrillSubject::kIndexes, 0, "checked=7 failed=1"});
  const std::string want = "public.idx_t_v on public.idx_t: item order invariant violated";
  std::string t = DrillText(r);
  EXPECT_NE(t.find(want), std::string::npos) << t;
  EXPECT_NE(DrillMarkdown(r).find(want), std::string::npos);
  EXPECT_NE(DrillJUnit(r).find("B-tree indexes (amcheck)"), std::string::npos);
  auto j = nlohmann::json::parse(DrillJson(r));
  EXPECT_EQ(j["indexes"]["checked"], 7);
  EXPECT_EQ(j["indexes"]["failures"][0]["index"], "public.idx_t_v");
  EXPECT_EQ(j["passed"], false);
}

TEST(DrillOutput, Durations) {
  EXPECT_EQ(FormatDurationUs(3'500'000), "3.5 s");
  EXPECT_EQ(FormatDurationUs(12 * 60'000'000LL), "12 minutes");
  EXPECT_EQ(FormatDurationUs(60'000'000LL), "1 minute");
  EXPECT_EQ(FormatDurationUs(150'000'000LL), "2.5 minutes");
  EXPECT_EQ(FormatDurationUs(250'000), "250 ms");
  EXPECT_EQ(FormatDurationUs(3 * 3'600'000'000LL), "3 hours");
}

}  // namespace
}  // namespace vouch::cli
