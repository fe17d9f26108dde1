// vouch compare: per table MATCH / MISMATCH / MISSING / EXTRA between an
// expected and an actual source, and for mismatching tables the exact rows
// that differ, named by key. Pass 1 digests both sides; pass 2 re-reads only
// the mismatching tables of both sides and keeps only the rows whose bucket
// differs (a changed row moves its hash between buckets), then compares those
// rows as multisets and pairs them by key into missing / extra / changed.
// Manifests cannot be re-read: against one, pass 2 is skipped and says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vouch/engine/digest_pipeline.h"

namespace vouch {

struct CompareOptions {
  DigestOptions digest;
  size_t max_keys = 20;                      // keys listed per kind and table
  size_t max_diff_bytes = size_t{96} << 20;  // row bytes pass 2 may hold per side before giving up
  // Observers of pass 1's rows on each side (drill checks); not owned.
  RowObserver* expected_observer = nullptr;
  RowObserver* actual_observer = nullptr;
};

enum class TableStatus { kMatch, kMismatch, kMissing, kExtra };
const char* TableStatusName(TableStatus s);

struct TableComparison {
  std::string schema;
  std::string name;
  TableStatus status = TableStatus::kMatch;
  uint64_t expected_rows = 0, actual_rows = 0;
  std::string expected_hash, actual_hash;  // content hashes
  bool columns_differ = false;
  std::vector<std::string> expected_columns, actual_columns;
  std::vector<std::string> key_columns;
  size_t differing_buckets = 0;
  // Pass 2 (mismatching tables only).
  bool rows_located = false;
  std::string not_located_reason;
  uint64_t missing = 0, extra = 0, changed = 0;
  std::vector<std::string> missing_keys, extra_keys, changed_keys;  // at most max_keys each

  std::string QualifiedName() const;
};

struct CompareReport {
  DigestReport expected;
  DigestReport actual;
  std::vector<TableComparison> tables;  // sorted by (schema, name)
  // A finding for every table that differs (TableDiffers, its status).
  Outcome outcome() const;
};

// Opens both sides (OpenSource, vouch/engine/source.h) and compares them.
Result<CompareReport> Compare(const std::string& expected, const std::string& actual, const CompareOptions& options);
class Source;
// Compares two sources, each read once for pass 1 and once more (only the
// mismatching tables) for pass 2.
Result<CompareReport> Compare(Source& expected, Source& actual, const CompareOptions& options);

}  // namespace vouch
