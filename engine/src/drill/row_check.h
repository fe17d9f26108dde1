// The drill's checks beyond content (docs/design.md "Checks beyond content")
// as separate classes behind one interface. A RowCheck plans what it reads of
// each table, scans rows into per-chunk partial state on any worker thread,
// folds the partials serially, and finishes into its typed result in
// SourceChecks; then it judges the report's lines from both sides' results.
// DrillObserver (drill_checks.cc) runs a list of them in the digest pass and
// knows nothing about any one. Each check's class lives in its own .cc, its
// header only makes one: a new check is a new pair of files here, a line in
// MakeRowChecks, and its rendering in cli/render/drill.cc.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/chain/continuity.h"
#include "vouch/engine/drill.h"
#include "vouch/engine/drill_checks.h"

namespace vouch::drill {

// What every check may use of a table, resolved once per table by the
// observer: its key, its timestamp columns and which of them is the record
// time (the first unless --time-column names one). The record time decides
// which rows were written inside the recovery window, which several checks
// need.
struct TableLayout {
  const TableInfo* table = nullptr;
  std::vector<size_t> key_cols;                       // COPY indexes of the key columns
  std::vector<size_t> time_cols;                      // COPY indexes of the timestamp columns
  std::vector<std::string> time_names;                // their names, in the same order
  int record = -1;                                    // index into time_cols; -1: no record time
  std::optional<std::pair<int64_t, int64_t>> window;  // the recovery window [from, to] µs

  bool InWindow(int64_t us) const { return window && us >= window->first && us <= window->second; }
};

// Builds each table's layout from the options (--time-column).
class LayoutPlanner {
 public:
  static Result<LayoutPlanner> Make(const CheckOptions& options);
  Result<TableLayout> Layout(const TableInfo& table) const;

 private:
  std::optional<std::pair<int64_t, int64_t>> window_;
  std::map<std::string, std::string> record_columns_;  // "schema\0table" → --time-column's column
};

// One row as every check on its table sees it. The fields are split once for
// all checks, and only when one of them reads fields.
class Row {
 public:
  Row(const TableLayout& layout, std::string_view text, uint64_t offset, const std::vector<std::string_view>& fields)
      : layout_(layout), text_(text), offset_(offset), fields_(fields) {}
  std::string_view text() const { return text_; }
  uint64_t offset() const { return offset_; }  // of the row in the source's uncompressed stream
  const std::vector<std::string_view>& fields() const { return fields_; }
  // Whether the row's record time lies inside the recovery window: its
  // sequence values were "written in the window". Parsed on first use, once
  // for every check that asks.
  bool InWindow() const;

 private:
  const TableLayout& layout_;
  std::string_view text_;
  uint64_t offset_;
  const std::vector<std::string_view>& fields_;
  mutable int8_t in_window_ = -1;  // -1: not parsed yet
};

// What a check reads of one table (its own subclass holds the columns).
struct CheckPlan {
  virtual ~CheckPlan() = default;
  bool needs_fields = false;  // Scan reads Row::fields()
  bool scans = true;          // false: Scan is never called, Fold still is
};

// A check's state for one chunk, owned by one worker thread.
struct CheckPartial {
  virtual ~CheckPartial() = default;
};

// What Finish may need beyond the check's own state: the source, to read it
// again (orphan samples), how it was read, and what the pass found.
struct FinishContext {
  Source* source;  // to read again (orphan samples); null: none
  const DigestOptions& digest;
  // The pass's digest of the source: its tables (those with no rows too, of
  // which no row was seen) and schema objects. Null: not known.
  const DigestReport* report;
};

class RowCheck {
 public:
  virtual ~RowCheck() = default;
  // Once per source, before any table: what the source declares (its
  // foreign keys). An error is a bad option.
  virtual Status Begin(const TableStreamReader&) { return Status::Ok(); }
  // Serial, once per table: what the check reads of it, or null when
  // nothing. An error ends the run (a configured column the table lacks).
  // The layout and its table outlive the table's scans and folds, not the
  // pass: what Finish needs of them is copied.
  virtual Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& table) = 0;
  // Parallel: a fresh state for one chunk of a planned table.
  virtual std::unique_ptr<CheckPartial> NewPartial(const CheckPlan& plan) const = 0;
  // Parallel: one well-formed row into `partial`, nothing else. Must not
  // allocate per row.
  virtual void Scan(const CheckPlan& plan, const Row& row, CheckPartial& partial) const = 0;
  // Serial, in any chunk order: a chunk's partial (`rows` rows, malformed
  // ones included) into the check's state.
  virtual void Fold(const CheckPlan& plan, CheckPartial& partial, uint64_t rows) = 0;
  // After the pass: the typed result into `out`.
  virtual Status Finish(const FinishContext& context, SourceChecks& out) = 0;
  // The report's lines of this check (pass or fail, with their facts),
  // judged on the typed results of both sides; a line that fails is a
  // finding. Reads only the results, so it works on a side that did not run.
  virtual void Judge(const SourceChecks& restored, const SourceChecks& source, std::vector<DrillCheck>& out) const = 0;
};

// The checks a drill runs on a side, in the order the report lists them.
std::vector<std::unique_ptr<RowCheck>> MakeRowChecks(const CheckOptions& options);

// Helpers shared by the checks.

std::optional<size_t> ColumnIndex(const TableInfo& t, const std::string& name);
bool SameTable(const TableInfo& t, const std::string& schema, const std::string& name);
// `t` is schema.name, or a leaf partition under that partitioned table (whose
// rows are its leaves').
bool OfTable(const TableInfo& t, const std::string& schema, const std::string& name);
std::string ColumnsList(const std::vector<std::string>& cols);

// A key (or reference) of a row: its fields joined by '\t', hashed. Any NULL
// field makes the reference NULL (MATCH SIMPLE): *is_null.
uint64_t KeyHash(const std::vector<std::string_view>& f, const std::vector<size_t>& cols, std::string& buf,
                 bool* is_null);

// "id=7" for the row's key columns, with `extra` columns in parentheses
// ("id=7 (task_id=12)"), or only them when the table has no key.
std::string DescribeRow(const std::vector<std::string_view>& f, const TableInfo& t, const std::vector<size_t>& key,
                        const std::vector<size_t>& extra);

// The values a sequence (chain seq or --gap-column) took on rows whose record
// time lies inside the recovery window, as one inclusive range: each sequence
// keeps its own, since a gap report is suspicious only against its own values.
struct SeqWindow {
  int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
  void Add(int64_t v) {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  void Merge(const SeqWindow& o) {
    min = std::min(min, o.min);
    max = std::max(max, o.max);
  }
  std::optional<std::pair<int64_t, int64_t>> Range() const {
    if (min > max) return std::nullopt;
    return std::make_pair(min, max);
  }
};

// "name=1 other=2": the numbers behind a verdict, for its finding.
std::string Facts(std::initializer_list<std::pair<const char*, uint64_t>> facts);

// A sequence's gaps are suspicious from --gap-threshold on, or inside the
// recovery window as that sequence's own in-window values span it.
GapOptions SequenceGapOptions(const CheckOptions& options, const SeqWindow& window);

}  // namespace vouch::drill
