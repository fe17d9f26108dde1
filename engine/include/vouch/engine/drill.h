// vouch drill SOURCE RESTORED: the post-restore validation of a DR drill, end
// to end (the DR report of docs/design.md): both sides digested at once with the drill checks in the
// same pass, compared table by table (differing keys named), audit chains,
// gaps, orphans, temporal consistency, RPO/RTO, and one
// FINAL_VALIDATION_HASH per side (tables and chain heads).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vouch/engine/compare.h"
#include "vouch/engine/drill_checks.h"
#include "vouch/engine/schema_compare.h"
#include "vouch/readers/amcheck.h"

namespace vouch {

struct DrillOptions {
  CompareOptions compare;  // digest options (jobs, filter) and key listing
  CheckOptions checks;
  std::optional<int64_t> rpo_target_us, rto_target_us;
  std::optional<int64_t> drill_start_us, drill_end_us;  // for RTO
  // pg_dumpall --globals-only files holding a dump side's cluster-wide
  // objects (roles, memberships, tablespaces, settings); "" = none. An error
  // for a database side, whose catalogs hold them.
  std::string source_globals, restored_globals;
  // --amcheck: bt_index_check on every B-tree index of the restored
  // database (vouch/readers/amcheck.h), after the digests.
  bool amcheck = false;
};

// Which result a check's line stands for. The engine says what was found;
// the renderers (cli/render/drill.cc) word it from the report's typed
// result that `subject` and `index` name.
enum class DrillSubject : uint8_t {
  kContent,           // compare.tables[index]
  kChain,             // restored_checks.chains[index]
  kSourceChain,       // source_checks.chains[index]: broken before the backup
  kGaps,              // restored_checks.gaps[index]
  kOrphans,           // restored_checks.orphans[index]
  kFutureTimestamps,  // restored_checks.temporal, every timestamp column
  kNullRecordTimes,   // restored_checks.temporal, every record-time column
  kRpo,               // rpo_us against rpo_target_us
  kRto,               // rto_us against rto_target_us
  kFinalHash,         // source_final_hash against restored_final_hash
  kSequence,          // compare.sequences[index]: missing, extra, redefined or behind
  kSequences,         // every sequence of compare.sequences passed
  kSequenceColumn,    // sequence_columns[index]: the sequence behind its column
  kSequenceColumns,   // every one of sequence_columns passed
  kLargeObjects,      // compare.large_objects
  kSchemaKind,        // schema.kinds[index]: the schema objects of one kind
  kSchemaHash,        // source_schema_hash against restored_schema_hash
  kIndexes,           // index_checks: every B-tree index of the restored database
};

// "Sequence behind its column" on one side: the sequence's next value
// against the largest value of a column it feeds.
struct SequenceColumnCheck {
  bool restored = false;  // which side: the restored copy, else the source
  FedColumn column;       // its largest value (SourceChecks::fed_columns)
  bool has_state = false;  // the side tells the sequence's state
  bool exhausted = false;  // no next value (at its bound, no CYCLE)
  int64_t next = 0;        // the value nextval() gives next
  bool Passed() const { return !has_state || column.values == 0 || (!exhausted && next > column.max); }
};

// How much of one table's latest writes the restored copy lacks: the
// source's latest record time minus the restored copy's, in the table's
// record-time column (TableTemporal::record_column). A table whose restored
// copy has no record times at all lost everything since its first record:
// its lag is the source's latest minus its earliest.
struct TableLag {
  std::string schema, name, column;
  int64_t source_latest_us = 0;
  std::optional<int64_t> restored_latest_us;  // none: no record time restored
  int64_t lag_us = 0;                         // ≥ 0
  std::string QualifiedName() const;
};

// One line of the verdict: a check with its outcome (text ✅/❌, JUnit test case).
struct DrillCheck {
  std::string section;  // "Row Counts", "Data Integrity", "Audit Chain", "Sequence Gaps", "Referential Integrity",
                        // "Temporal", "Sequences", "Large Objects", "RPO", "RTO", "Final Validation Hash"
  std::string name;     // e.g. "public.tasks content", "orphans public.tasks(session_id) → public.sessions(id)"
  bool passed = false;
  DrillSubject subject = DrillSubject::kContent;
  size_t index = 0;   // into the vector `subject` names
  std::string facts;  // the numbers behind the verdict ("orphans=1 child_rows=157"): a failed check's finding
};

struct DrillReport {
  std::string source, restored;  // locations (no passwords)
  CompareReport compare;         // both digests + per-table comparison (their schema
                                 // objects released once compared: `schema` below)
  SourceChecks source_checks, restored_checks;
  std::string source_final_hash, restored_final_hash;  // 64 hex: tables + chain heads
  // Schema objects (empty `schema.kinds` when not compared: schema.not_compared).
  SchemaComparison schema;
  // SCHEMA_VALIDATION_HASH per side (64 hex; "" for a side without a schema),
  // over the cluster-wide objects too when both sides have them.
  std::string source_schema_hash, restored_schema_hash;
  bool schema_hash_with_cluster = false;
  std::optional<int64_t> source_latest_us, restored_latest_us;
  // RPO: the worst loss of any table, table_lags[0].lag_us (a restore that
  // lost the last minutes of one table while another's latest record
  // survived lost those minutes). source_latest_us and restored_latest_us
  // are the latest record times over all tables, for the report.
  std::optional<int64_t> rpo_us, rto_us;
  // Every table with record times on the source side, largest lag first
  // (equal lags by name); empty unless both sides read rows.
  std::vector<TableLag> table_lags;
  // The table behind the RPO when it lost records (table_lags[0] with a lag
  // above 0); null when no table lost one.
  const TableLag* WorstLoss() const {
    return !table_lags.empty() && table_lags.front().lag_us > 0 ? &table_lags.front() : nullptr;
  }
  // --amcheck: the restored database's B-tree indexes (nullopt: not run).
  std::optional<IndexCheckResult> index_checks;
  std::optional<int64_t> rpo_target_us, rto_target_us;
  std::optional<std::pair<int64_t, int64_t>> recovery_window;
  int64_t now_us = 0;
  double seconds = 0;
  // The drill's phases for its timeline ("open", "read source", "read
  // restored", "locate differing rows", "checks", "amcheck"), in seconds
  // from the drill's start.
  std::vector<RunPhase> phases;
  // Every fed column checked against its sequence, both sides.
  std::vector<SequenceColumnCheck> sequence_columns;
  std::vector<DrillCheck> checks;  // every check, in report order
  // --rows-only (DigestOptions::rows_only): rows and audit chains only. No
  // sequence, large object or schema object was compared (each says
  // "--rows-only" where it says why not), no SCHEMA_VALIDATION_HASH, and
  // the final hashes cover the tables and chain heads alone
  // (compare.expected/actual.large_objects_left_out: what they leave out).
  bool rows_only = false;
  // A finding (CheckFailed, named after the check, with its facts) for every
  // failed check; a drill without a single check is one too.
  Outcome outcome() const;
};

// Opens both sides (OpenSource, vouch/engine/source.h) and runs the drill.
Result<DrillReport> RunDrill(const std::string& source, const std::string& restored, const DrillOptions& options);
class Source;
// The drill over two opened sources; `start` is when the drill began (its
// duration in the report counts from there).
Result<DrillReport> RunDrill(Source& source, Source& restored, const DrillOptions& options,
                             std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());

}  // namespace vouch
