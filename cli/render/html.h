// --format html: one self-contained page per report (drill, compare,
// verify-backup, restore-test) that a browser shows and prints without any
// network fetch: the verdict at the top, an SVG bar chart of rows and time
// per table, an SVG timeline of the run's phases (restore-test: the RTO's
// phases), the findings with their keys, and the report's own sections (the
// Markdown rendering's, turned into HTML; the text report where a command
// has no Markdown). Elements a test or a script looks for carry ids:
// #verdict (class pass or fail), #tables (a <g data-table="..."> per table
// drawn), #timeline, #findings, #report.
#pragma once

#include <string>
#include <string_view>

#include "render/kit.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/engine/compare.h"
#include "vouch/engine/drill.h"
#include "vouch/restore/restore_test.h"

namespace vouch::cli {

std::string DrillHtml(const DrillReport& report, TableList list = TableList::kAuto);
std::string CompareHtml(const CompareReport& report, TableList list = TableList::kAuto);
std::string BackupHtml(const BackupVerification& v);
std::string RestoreTestHtml(const RestoreTestReport& report, TableList list = TableList::kAuto);

// The Markdown vouch's reports use, as HTML: # headings, "- " lists, pipe
// tables, ``` blocks, **bold**, `code` and _emphasis_ lines; text escaped.
std::string MarkdownToHtml(std::string_view markdown);
// Text for HTML element content and attribute values (& < > " ' escaped).
std::string HtmlEscape(std::string_view s);

// The tables drawn at most in a chart (the largest by rows; the page says
// how many were left out).
inline constexpr size_t kChartTables = 40;

}  // namespace vouch::cli
