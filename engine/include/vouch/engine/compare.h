// vouch compare: per table MATCH / MISMATCH / MISSING / EXTRA between an
// expected and an actual source, and for mismatching tables the exact rows
// that differ, named by key. Pass 1 digests both sides; pass 2 re-reads only
// the mismatching tables of both sides and keeps only the rows whose bucket
// differs (a changed row moves its hash between buckets), then compares those
// rows as multisets and pairs them by key into missing / extra / changed.
// Manifests cannot be re-read: against one, pass 2 is skipped and says so.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/progress.h"
#include "vouch/engine/digest_pipeline.h"

namespace vouch {

struct CompareReport;

struct CompareOptions {
  DigestOptions digest;
  size_t max_keys = 20;                      // keys listed per kind and table
  size_t max_diff_bytes = size_t{96} << 20;  // row bytes pass 2 may hold per side before giving up
  // Observers of pass 1's rows on each side (drill checks); not owned.
  RowObserver* expected_observer = nullptr;
  RowObserver* actual_observer = nullptr;
  // Each side's DigestOptions::schema_sink: a drill takes the schema
  // objects as soon as a reader has them all, compares them once both are
  // in, and lets them go while the rows are still read.
  TableStreamReader::SchemaSink expected_schema_sink, actual_schema_sink;
  // Called once both digests are in, before their tables are compared: a
  // drill compares the schema objects there that were not handed over
  // before, and drops them, so that the two catalogs and the tables'
  // comparison are never held at once (at 100,000 tables, tens of MB each).
  // An error ends the comparison.
  std::function<Status(CompareReport&)> after_digests;
  // Counted into as both sides are read (side[0] expected, side[1] actual)
  // and told the phase, for a progress display; not owned.
  RunProgress* progress = nullptr;
};

// A phase of a run, for the report's timeline: when it began, seconds
// after the run began, and how long it took. Reported only.
struct RunPhase {
  std::string name;
  double start_s = 0, seconds = 0;
};

enum class TableStatus { kMatch, kMismatch, kMissing, kExtra };
const char* TableStatusName(TableStatus s);

// A table's content hash (TableDigest::ContentHash) as a comparison holds
// it: 16 bytes in place, not 32 hex digits on the heap (two per table, at
// 100,000 tables 13 MB). Empty for a side that lacks the table.
class ContentHash {
 public:
  ContentHash() = default;
  explicit ContentHash(const std::array<uint8_t, 16>& bytes) : bytes_(bytes), set_(true) {}
  // 32 hex digits; empty for anything else.
  static ContentHash FromHex(std::string_view hex);
  bool empty() const { return !set_; }
  std::string Hex() const;  // "" when empty
  friend bool operator==(const ContentHash&, const ContentHash&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
  bool set_ = false;
};

struct TableComparison {
  std::string schema;
  std::string name;
  TableStatus status = TableStatus::kMatch;
  uint64_t expected_rows = 0, actual_rows = 0;
  ContentHash expected_hash, actual_hash;
  // The digests' sums (the content hash is SHA-256 of rows and sum, cut to
  // 16 bytes): with the rows, what the FINAL_VALIDATION_HASH is made of, so
  // that a report lets anyone recompute it (verify-evidence).
  U128 expected_sum, actual_sum;
  bool columns_differ = false;
  // Canonical column lists; empty for a MATCH (kept only where they explain
  // a difference).
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

// A partitioned table's roll-up (vouch/engine/partitions.h) on both sides.
// kMoved: the roll-ups are equal but leaves differ: the same rows, in
// different partitions (e.g. restored into a table with other bounds). The
// differing leaves stay MISMATCH findings of their own (where a row lives
// is part of what a restore must reproduce); the roll-up explains them.
enum class RollupStatus { kMatch, kMoved, kMismatch, kMissing, kExtra };
const char* RollupStatusName(RollupStatus s);

struct RollupComparison {
  std::string schema;
  std::string name;
  RollupStatus status = RollupStatus::kMatch;
  size_t expected_leaves = 0, actual_leaves = 0;
  uint64_t expected_rows = 0, actual_rows = 0;
  std::string expected_hash, actual_hash;    // content hashes ("" when not computed)
  std::string not_computed;                  // why a side's roll-up has no digest
  std::vector<std::string> differing_leaves;  // qualified names of the leaves that do not match
  // Pass 2: rows that left one leaf and arrived in another leaf under this
  // table, named by the leaf's key ("id=5: s.m_1 → s.m_0"); at most max_keys.
  bool moves_located = false;
  std::string not_located_reason;
  uint64_t moved = 0;
  std::vector<std::string> moved_keys;

  std::string QualifiedName() const;
};

// A sequence on both sides. Its state is compared by order, never for
// equality (sequences are not transactional: a restore from WAL may be up to
// 32 values ahead): behind the expected side fails, ahead is a note with the
// distance. Its definition is compared exactly.
enum class SequenceState : uint8_t { kNotCompared, kEqual, kAhead, kBehind };
const char* SequenceStateName(SequenceState s);

struct SequenceComparison {
  std::string schema, name;
  bool missing = false, extra = false;  // only on the expected / the actual side
  // DefinitionText(), or a manifest's fingerprint; empty when a side does
  // not define it (a --data-only dump): then not compared.
  std::string expected_definition, actual_definition;
  bool definition_differs = false;
  SequenceState state = SequenceState::kNotCompared;
  int64_t expected_last = 0, actual_last = 0;
  bool expected_called = false, actual_called = false;
  uint64_t distance = 0;  // how far ahead or behind, in values
  bool Failed() const { return missing || extra || definition_differs || state == SequenceState::kBehind; }
  std::string QualifiedName() const;
};

// The large-objects pseudo-table on both sides, object by object.
struct LargeObjectsComparison {
  bool compared = false;
  std::string not_compared;  // why not, when a side does not tell its large objects
  uint64_t expected_count = 0, actual_count = 0;
  std::string expected_digest, actual_digest;  // 64 hex, empty without any
  uint64_t missing = 0, extra = 0, changed = 0;
  // At most max_keys each: OIDs; changed ones say what ("16400 (content)",
  // "16401 (owner alice → bob)").
  std::vector<std::string> missing_oids, extra_oids, changed_oids;
  bool Passed() const { return missing == 0 && extra == 0 && changed == 0; }
};

struct CompareReport {
  DigestReport expected;
  DigestReport actual;
  std::vector<TableComparison> tables;  // sorted by (schema, name)
  // The partitioned tables' roll-ups (sorted; empty without partitions).
  std::vector<RollupComparison> partitions;
  // Sequences (sorted) when both sides tell theirs; else why not.
  bool sequences_compared = false;
  std::string sequences_not_compared;
  std::vector<SequenceComparison> sequences;
  LargeObjectsComparison large_objects;
  // The comparison's phases ("read expected", "read actual", "locate
  // differing rows"), in seconds from the comparison's start.
  std::vector<RunPhase> phases;
  // A finding for every table that differs (TableDiffers, its status), every
  // sequence that fails (SequenceDiffers) and large objects that differ.
  Outcome outcome() const;
};

// Opens both sides (OpenSource, vouch/engine/source.h) and compares them.
Result<CompareReport> Compare(const std::string& expected, const std::string& actual, const CompareOptions& options);
class Source;
// Compares two sources, each read once for pass 1 and once more (only the
// mismatching tables) for pass 2.
Result<CompareReport> Compare(Source& expected, Source& actual, const CompareOptions& options);

}  // namespace vouch
