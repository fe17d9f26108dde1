// The rendering kit: the pieces every report's text, JSON and Prometheus
// rendering shares. Each one fixes a byte format that people, scripts and
// dashboards read, so all reports stay alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace vouch::cli {

// How much of a report's per-table list its text and Markdown show (--list).
// The summary and every table that does not match (or was not verified, or
// has a finding) are always shown; JSON always holds every table.
enum class TableList {
  kAuto,      // every table up to kAutoListTables tables, else kProblems
  kAll,       // every table
  kProblems,  // only the tables that do not match
};
inline constexpr size_t kAutoListTables = 100;

// Whether a report of `tables` tables lists every one of them under `list`.
bool ListsEveryTable(TableList list, size_t tables);

// The line that says what a list left out: "4 matching tables not listed;
// --list all or --format json lists them" (`what`: "matching table").
std::string LeftOutLine(uint64_t left_out, std::string_view what);

// "✅" or "❌".
const char* Mark(bool ok);

// "1,234,567"
std::string GroupThousands(uint64_t v);

// Text for an XML attribute or element (JUnit): the five special characters
// escaped, and characters XML 1.0 cannot hold (controls other than TAB, LF,
// CR) shown as \xNN.
std::string Xml(const std::string& s);

// A size for people: "512 bytes", "1.5 KB", "20.0 MB", "3.2 GB" (binary units).
std::string Bytes(uint64_t b);

// `v` through printf format `fmt`, which takes one double ("%.3f").
std::string Num(double v, const char* fmt);

// `doc` pretty-printed with two-space indents and a final newline; invalid
// UTF-8 in strings becomes U+FFFD rather than an exception.
std::string JsonDocument(const nlohmann::ordered_json& doc);

// A Prometheus label pair, name="value", the value escaped as the text
// exposition format requires (backslash, double quote, newline).
std::string PromLabel(std::string_view name, std::string_view value);

// One gauge in the text exposition format: its HELP and TYPE lines and a
// sample with `labels` (as PromLabel makes them).
void WriteGauge(std::ostream& o, std::string_view name, std::string_view help, std::string_view labels,
                std::string_view value);

}  // namespace vouch::cli
