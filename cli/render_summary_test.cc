// The summary-first layout of the text reports and --list (TableList): at
// most kAutoListTables tables every table is listed; past that only the
// tables that do not match, with a line saying how many were left out. JSON
// always holds every table.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "render/digest.h"
#include "render/drill.h"

namespace vouch::cli {
namespace {

std::string TableName(size_t i) { return fmt::format("t{:03}", i); }

// `n` tables; t001 has a changed row, t002 is missing, t003 is extra.
CompareReport SampleCompare(size_t n) {
  CompareReport r;
  r.expected.source.location = "postgresql://db1/app";
  r.actual.source.location = "postgresql://db2/app";
  for (size_t i = 0; i < n; ++i) {
    TableComparison t;
    t.schema = "public";
    t.name = TableName(i);
    t.expected_rows = t.actual_rows = 10;
    t.expected_hash = t.actual_hash = ContentHash::FromHex(std::string(32, 'a'));
    if (i == 1) {
      t.status = TableStatus::kMismatch;
      t.actual_hash = ContentHash::FromHex(std::string(32, 'b'));
      t.key_columns = {"id"};
      t.rows_located = true;
      t.changed = 1;
      t.changed_keys = {"id=42"};
    } else if (i == 2) {
      t.status = TableStatus::kMissing;
      t.actual_rows = 0;
      t.actual_hash = ContentHash();
    } else if (i == 3) {
      t.status = TableStatus::kExtra;
      t.expected_rows = 0;
      t.expected_hash = ContentHash();
    }
    r.tables.push_back(t);
  }
  return r;
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A table's row in the text table: "| public.t007 ".
std::string Row(size_t i) { return "| public." + TableName(i) + " "; }

TEST(CompareText, SummaryFirstThenOnlyTheProblemsPastTheLimit) {
  const CompareReport r = SampleCompare(250);
  const std::string t = CompareText(r);
  const size_t result = t.find("Result: ❌ 3 of 250 tables differ\n");
  ASSERT_NE(result, std::string::npos) << t;
  EXPECT_NE(t.find("250 tables: 247 match, 1 mismatch, 1 missing, 1 extra\n"), std::string::npos) << t;
  EXPECT_NE(t.find("Rows: 2,490 expected, 2,490 actual\n"), std::string::npos) << t;
  const size_t hash = t.find("FINAL_VALIDATION_HASH actual:");
  const size_t table = t.find("| Table ");
  ASSERT_NE(hash, std::string::npos);
  ASSERT_NE(table, std::string::npos);
  EXPECT_LT(result, table);
  EXPECT_LT(hash, table);
  // The three problems, nothing else.
  for (size_t i : {1, 2, 3}) EXPECT_EQ(Occurrences(t, Row(i)), 1u) << i;
  EXPECT_EQ(Occurrences(t, "| public.t"), 3u);
  EXPECT_NE(t.find("247 matching tables not listed; --list all or --format json lists them\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("public.t001: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=42\n"), std::string::npos);
  EXPECT_EQ(CompareText(r, TableList::kProblems), t);
}

TEST(CompareText, ListAllListsEveryTable) {
  const CompareReport r = SampleCompare(250);
  const std::string t = CompareText(r, TableList::kAll);
  EXPECT_EQ(Occurrences(t, "| public.t"), 250u);
  EXPECT_EQ(t.find("not listed"), std::string::npos);
  // The summary still leads.
  EXPECT_LT(t.find("Result: ❌ 3 of 250 tables differ\n"), t.find("| Table "));
}

TEST(CompareText, AtMostTheLimitEveryTableIsListed) {
  const CompareReport r = SampleCompare(kAutoListTables);
  const std::string t = CompareText(r);
  EXPECT_EQ(Occurrences(t, "| public.t"), kAutoListTables);
  EXPECT_EQ(t.find("not listed"), std::string::npos);
  // --list problems still cuts it to the three.
  const std::string p = CompareText(r, TableList::kProblems);
  EXPECT_EQ(Occurrences(p, "| public.t"), 3u);
  EXPECT_NE(p.find("97 matching tables not listed"), std::string::npos);
}

TEST(CompareJson, EveryTableWhateverTheList) {
  // JSON takes no TableList: it is one document for every --list.
  const CompareReport r = SampleCompare(250);
  const auto j = nlohmann::json::parse(CompareJson(r));
  EXPECT_EQ(j["tables"].size(), 250u);
  EXPECT_FALSE(j["match"].get<bool>());
}

DigestReport SampleDigest(size_t n) {
  DigestReport r;
  r.source.location = "/backups/app.dump";
  r.source.kind = "custom archive";
  r.source.compression = "gzip";
  for (size_t i = 0; i < n; ++i) {
    TableResult t;
    t.schema = "public";
    t.name = TableName(i);
    if (i == 5) t.not_hashed = "a column type vouch cannot read";
    r.tables.push_back(t);
  }
  return r;
}

TEST(DigestText, TotalsFirstAndANotePastTheLimit) {
  const DigestReport r = SampleDigest(250);
  const std::string t = DigestText(r);
  const size_t totals = t.find("250 tables, 0 rows\n");
  ASSERT_NE(totals, std::string::npos) << t;
  EXPECT_NE(t.find("Not hashed: public.t005: a column type vouch cannot read\n"), std::string::npos);
  EXPECT_NE(t.find("FINAL_VALIDATION_HASH: not computed (1 tables could not be hashed)\n"), std::string::npos);
  // Only the table that could not be hashed is in the table.
  EXPECT_EQ(Occurrences(t, "| public.t"), 1u);
  EXPECT_LT(totals, t.find(Row(5)));
  EXPECT_NE(t.find("249 hashed tables not listed; --list all or --format json lists them\n"), std::string::npos) << t;

  EXPECT_EQ(Occurrences(DigestText(r, TableList::kAll), "| public.t"), 250u);
}

TEST(DigestText, AtMostTheLimitEveryTableIsListed) {
  const std::string t = DigestText(SampleDigest(40));
  EXPECT_EQ(Occurrences(t, "| public.t"), 40u);
  EXPECT_EQ(t.find("not listed"), std::string::npos);
  EXPECT_LT(t.find("40 tables, 0 rows\n"), t.find("| Table "));
}

TEST(ArchiveText, VerdictAndTotalsBeforeTheTables) {
  ArchiveVerification v;
  v.path = "/backups/app.dump";
  v.digest = SampleDigest(250);
  v.digest.tables[5].not_hashed.clear();
  const std::string t = ArchiveText(v);
  const size_t result = t.find("Result: ✅ VERIFIED");
  ASSERT_NE(result, std::string::npos) << t;
  EXPECT_LT(result, t.find("250 tables, 0 rows\n"));
  EXPECT_EQ(Occurrences(t, "| public.t"), 0u);
  EXPECT_NE(t.find("250 hashed tables not listed"), std::string::npos) << t;
  EXPECT_EQ(Occurrences(ArchiveText(v, TableList::kAll), "| public.t"), 250u);
}

DrillReport SampleDrill(size_t n) {
  DrillReport r;
  r.source = "postgresql://db1/app";
  r.restored = "postgresql://db2/app";
  r.compare = SampleCompare(n);
  for (size_t i = 0; i < n; ++i) {
    const TableComparison& t = r.compare.tables[i];
    r.checks.push_back({"Data Integrity", t.QualifiedName() + " content", t.status == TableStatus::kMatch,
                        DrillSubject::kContent, i, ""});
  }
  r.source_final_hash = std::string(64, 'a');
  r.restored_final_hash = std::string(64, 'b');
  return r;
}

TEST(DrillText, SummaryFirstThenOnlyTheProblemsPastTheLimit) {
  const DrillReport r = SampleDrill(250);
  const std::string t = DrillText(r);
  const size_t verdict = t.find("Overall Result: ❌ FAIL — 3 of 250 checks failed\n");
  ASSERT_NE(verdict, std::string::npos) << t;
  EXPECT_LT(verdict, t.find("Critical Table Row Counts"));
  EXPECT_LT(t.find("FINAL_VALIDATION_HASH restored:"), t.find("Critical Table Row Counts"));
  EXPECT_NE(t.find("250 tables: 247 match, 1 mismatch, 1 missing, 1 extra\n"), std::string::npos);
  // Row counts and checksums: the three problems in each, and the note.
  EXPECT_EQ(Occurrences(t, "| public.t"), 6u);
  EXPECT_EQ(Occurrences(t, "247 matching tables not listed; --list all or --format json lists them\n"), 2u);
  EXPECT_EQ(Occurrences(DrillText(r, TableList::kAll), "| public.t"), 500u);
  EXPECT_EQ(Occurrences(DrillText(SampleDrill(100)), "| public.t"), 200u);
}

TEST(DrillMarkdown, SummaryFirstThenOnlyTheProblemsPastTheLimit) {
  const DrillReport r = SampleDrill(250);
  const std::string md = DrillMarkdown(r);
  const size_t summary = md.find("- **Tables**: 250 tables: 247 match, 1 mismatch, 1 missing, 1 extra\n");
  ASSERT_NE(summary, std::string::npos) << md;
  EXPECT_LT(summary, md.find("### Critical Table Row Counts"));
  EXPECT_NE(md.find("- **Failed Checks**:\n"), std::string::npos);
  // Row counts, checksums and the check list: the three problems in each.
  EXPECT_EQ(Occurrences(md, "| public.t"), 9u);
  EXPECT_EQ(Occurrences(md, "247 matching tables not listed"), 2u);
  EXPECT_NE(md.find("247 passed checks not listed"), std::string::npos);
  EXPECT_EQ(Occurrences(DrillMarkdown(r, TableList::kAll), "| public.t"), 750u);
  EXPECT_EQ(Occurrences(DrillMarkdown(SampleDrill(100)), "| public.t"), 300u);
  // JSON holds every table's comparison whatever the text shows.
  EXPECT_EQ(nlohmann::json::parse(DrillJson(r))["tables"].size(), 250u);
}

}  // namespace
}  // namespace vouch::cli
