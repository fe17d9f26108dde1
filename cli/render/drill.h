// Renderings of a DR drill report (vouch drill; engine/drill.h): the terminal
// report, a Markdown document with the section titles of a DR report and table
// layouts, complete JSON, and JUnit XML with one test case per check.
#pragma once

#include <cstdint>
#include <string>

#include "vouch/engine/drill.h"

namespace vouch::cli {

// The terminal report: header, row counts, checksums, audit chains, sequence
// gaps, temporal consistency with RPO/RTO, referential integrity, final
// hashes, then the verdict and the failed checks.
std::string DrillText(const DrillReport& report);
// A Markdown document (DR report evidence sections).
std::string DrillMarkdown(const DrillReport& report);
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
