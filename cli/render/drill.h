// Renderings of a DR drill report (vouch drill; engine/drill.h): the terminal
// report, a Markdown document with the section titles of a DR report and table
// layouts, complete JSON, and JUnit XML with one test case per check.
#pragma once

#include <cstdint>
#include <string>

#include "render/kit.h"
#include "vouch/engine/drill.h"

namespace vouch::cli {

// The terminal report: header; the summary (verdict, table counts, rows,
// final hashes, the failed checks); then row counts, checksums, audit chains,
// sequence gaps, temporal consistency with RPO/RTO and referential
// integrity. The per-table sections list every table, or as `list` says only
// those that do not match and a line saying how many were left out.
std::string DrillText(const DrillReport& report, TableList list = TableList::kAuto);
// A Markdown document (DR report evidence sections), the executive summary
// first; per-table sections and the check list as `list` says.
std::string DrillMarkdown(const DrillReport& report, TableList list = TableList::kAuto);
// Everything in the report as JSON (2-space indent).
std::string DrillJson(const DrillReport& report);
// JUnit XML: one testsuite "vouch drill", one testcase per DrillCheck.
std::string DrillJUnit(const DrillReport& report);

// A duration for people: "250 ms", "3.5 s", "12 minutes", "2.5 hours", "3 days".
std::string FormatDurationUs(int64_t us);
// One check's line for people: what was found (the key, seq, count), worded
// from the typed result the check names. Shown with the failed checks, in
// the Markdown and JSON check lists and as a JUnit failure.
std::string DrillCheckDetail(const DrillReport& report, const DrillCheck& check);
// The verdict line: "✅ PASS — all N checks passed" / "❌ FAIL — K of N checks failed".
std::string DrillVerdict(const DrillReport& report);

}  // namespace vouch::cli
