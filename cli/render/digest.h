// Renderings of digests, comparisons and archive verifications: text for
// the terminal, JSON for machines.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "render/kit.h"
#include "vouch/engine/compare.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/verify_archive.h"

namespace vouch::cli {

// What a source is, for a report's header: its kind and, when known, the
// PostgreSQL version of the server its data came from ("database,
// PostgreSQL 18.6"; for a dump, the server it was dumped from).
std::string SourceDescription(const SourceInfo& source);
// The totals (tables, rows), the tables not hashed and
// FINAL_VALIDATION_HASH, then the table of rows and content hashes (a DR
// report's layout): every table, or as `list` says only those not hashed and
// a line saying how many were left out.
std::string DigestText(const DigestReport& report, TableList list = TableList::kAuto);
// vouch digest --schema-only: the source and its SCHEMA_VALIDATION_HASH line.
std::string DigestSchemaText(const DigestReport& report);
// The verdict, the counts per status, the rows and both final hashes first;
// then the per-table MATCH/MISMATCH table (every table, or as `list` says
// only those that differ) and the differing keys.
std::string CompareText(const CompareReport& report, TableList list = TableList::kAuto);
// "6 tables: 4 match, 2 mismatch, 0 missing, 0 extra".
std::string TableStatusCounts(const std::vector<TableComparison>& tables);
// The same as JSON (complete, machine-readable).
std::string CompareJson(const CompareReport& report);
// One table's comparison as JSON, for `vouch compare` and `vouch drill`:
// names, status, row counts, both content hashes and the key; for a mismatch
// the column lists (when they differ) and the located keys.
nlohmann::ordered_json TableComparisonJson(const TableComparison& t);
// With --rows-only (CompareReport's sides read rows only): what
// FINAL_VALIDATION_HASH leaves out, from the large objects each side told,
// its sides named `expected` and `actual` ("source", "restored copy").
std::string RowsOnlyHashNote(const CompareReport& c, std::string_view expected, std::string_view actual);
// With --rows-only: the large objects each side has, left out ("3 in the
// source, 3 in the restored copy"), or "" when a side does not tell.
std::string LargeObjectsLeftOut(const CompareReport& c, std::string_view expected, std::string_view actual);
// A side's large objects left out by --rows-only (null when it does not tell).
nlohmann::ordered_json LargeObjectsLeftOutJson(const DigestReport& d);
// A compare's sequences and large objects (compare and drill JSON).
nlohmann::ordered_json SequencesJson(const CompareReport& c);
nlohmann::ordered_json LargeObjectsJson(const LargeObjectsComparison& lo);
// Archive metadata, the verdict with the totals and the final hash, the
// tables (as `list` says, like DigestText), foreign keys and checksum lines.
std::string ArchiveText(const ArchiveVerification& v, TableList list = TableList::kAuto);
// The same as JSON, with the digest manifest (`manifest_json`) embedded.
std::string ArchiveJson(const ArchiveVerification& v, const std::string& manifest_json);
// Gauges in the Prometheus text exposition format, labelled with the
// archive's path, for a node_exporter textfile (docs/nightly.md):
// vouch_archive_verified, _tables, _rows, _bytes, _findings,
// _verify_seconds and _last_run_timestamp_seconds (`now`, unix seconds).
std::string ArchivePrometheus(const ArchiveVerification& v, double now);
// One line: bytes, seconds, throughput, jobs.
std::string RunStats(const DigestReport& report);

}  // namespace vouch::cli
