// Renderings of digests, comparisons and archive verifications: text for
// the terminal, JSON for machines.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "vouch/engine/compare.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/verify_archive.h"

namespace vouch::cli {

// What a source is, for a report's header: its kind and, when known, the
// PostgreSQL version of the server its data came from ("database,
// PostgreSQL 18.6"; for a dump, the server it was dumped from).
std::string SourceDescription(const SourceInfo& source);
// Table of rows and content hashes (a DR report's layout) and FINAL_VALIDATION_HASH.
std::string DigestText(const DigestReport& report);
// Per-table MATCH/MISMATCH table, the differing keys, both final hashes.
std::string CompareText(const CompareReport& report);
// The same as JSON (complete, machine-readable).
std::string CompareJson(const CompareReport& report);
// One table's comparison as JSON, for `vouch compare` and `vouch drill`:
// names, status, row counts, both content hashes and the key; for a mismatch
// the column lists (when they differ) and the located keys.
nlohmann::ordered_json TableComparisonJson(const TableComparison& t);
// Archive metadata, tables, checksum lines and the verdict.
std::string ArchiveText(const ArchiveVerification& v);
// The same as JSON, with the digest manifest (`manifest_json`) embedded.
std::string ArchiveJson(const ArchiveVerification& v, const std::string& manifest_json);
// One line: bytes, seconds, throughput, jobs.
std::string RunStats(const DigestReport& report);

}  // namespace vouch::cli
