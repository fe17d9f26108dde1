// The drill's checks beyond content (docs/design.md "Checks beyond content"), run
// on the rows of a source in the digest pass itself (a RowObserver):
// - audit chains (chain/): every link recomputed, continuity order-free,
//   head hash, and the gaps of the chain's sequence;
// - sequence gaps on --gap-column columns;
// - orphans for every foreign key (catalog or dump DDL) and declared one:
//   parent keys and child references are kept as 64-bit hashes (8 bytes a
//   row, never the rows), spilled to sorted runs beyond memory_limit and
//   compared at the end by a merge; sample child keys come from a second
//   read of only the child tables that have orphans;
// - temporal: per table and timestamp column earliest/latest, future and
//   NULL values, rows inside the recovery window.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vouch/base/civil_time.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/chain/continuity.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/row_observer.h"

namespace vouch {

class Source;  // vouch/engine/source.h

struct DrillCheck;  // drill.h

struct CheckOptions {
  std::vector<ChainSpec> chains;
  std::vector<std::string> gap_columns;  // "[schema.]table.column"
  uint64_t gap_threshold = 1;            // a missing run this long or longer is suspicious
  std::vector<ForeignKey> declared_fks;  // --fk child(col)=parent(col)
  bool catalog_fks = true;               // also every FK the source declares
  // Catalog FKs of the other side of a drill, checked here too: a restore
  // that lost a constraint must still be checked against it.
  std::vector<ForeignKey> other_side_fks;
  std::vector<std::string> time_columns;  // "[schema.]table.column": the table's record time
  int64_t now_us = 0;                     // "now" (µs since epoch, UTC); 0 = when the drill starts
  int64_t future_skew_us = 300'000'000;   // a timestamp later than now + skew is in the future
  std::optional<std::pair<int64_t, int64_t>> recovery_window;  // [from, to] µs
  size_t max_samples = 10;                                     // sample keys listed per finding
  // Check each sequence against the largest value of the columns it feeds
  // (off with --rows-only: no sequence is compared).
  bool sequence_columns = true;
  // What the row checks may keep in memory (the orphan check's key sets,
  // 8 bytes a row); beyond it they spill to sorted runs in a directory made
  // under `temp_dir` and removed at the end. RunDrill reads both sides at
  // once and gives each half of this; a DrillObserver takes it whole.
  size_t memory_limit = size_t{256} << 20;
  std::string temp_dir;  // empty: the system's temporary directory ($TMPDIR, else /tmp)
};

// Parses "--fk child(a,b)=parent(x,y)", tables "[schema.]name".
Result<ForeignKey> ParseForeignKeyFlag(const std::string& text);
// Parses "[schema.]table.column" into ("schema", "table", "column"); schema defaults to public.
Result<std::tuple<std::string, std::string, std::string>> ParseColumnRef(const std::string& text);

struct TimeColumnStats {
  std::string column;
  uint64_t values = 0, nulls = 0, future = 0, in_window = 0, invalid = 0;
  int64_t min_us = 0, max_us = 0;           // valid when values > 0 (±infinity excluded)
  std::vector<std::string> future_samples;  // key of rows in the future (record column only... any column)
};

struct TableTemporal {
  std::string schema, name;
  uint64_t rows = 0;
  std::string record_column;             // empty: the table has no timestamp column
  std::vector<TimeColumnStats> columns;  // in the table's column order
  const TimeColumnStats* record() const;
  std::string QualifiedName() const;
};

struct ChainCheck {
  ChainSpec spec;
  std::string description;  // DescribeChainSpec
  bool found = false;       // the source has the table
  std::string error;        // the spec does not fit the table (missing column)
  uint64_t bad_rows = 0;    // rows whose seq or hash could not be read (counted as broken links)
  std::vector<std::string> bad_row_samples;
  ChainContinuity::Result result{};
  SeqGapTracker::Result gaps{};
  bool Passed() const;
  bool SpecLooksWrong() const;  // every link fails: a wrong spec, not tampering
};

struct GapCheck {
  std::string schema, table, column;
  bool found = false;
  uint64_t non_integer = 0;  // values that are not integers (NULL included)
  SeqGapTracker::Result result{};
  bool Passed() const;
};

struct OrphanCheck {
  ForeignKey fk;
  bool declared = false;    // from --fk, not the source's catalog
  std::string not_checked;  // why not (a table missing); empty when checked
  // Why rows cannot show it (a key column whose values no COPY holds: a
  // generated column): a note, not a failure; not_checked is empty then.
  std::string not_checkable;
  uint64_t child_rows = 0, null_refs = 0, parent_keys = 0;
  uint64_t orphans = 0;
  std::vector<std::string> samples;  // "id=7 (session_id=12)"
  std::string Name() const;          // "public.tasks(session_id) → public.sessions(id)"
  bool Checked() const { return not_checked.empty() && not_checkable.empty(); }
  bool Passed() const { return not_checked.empty() && orphans == 0; }
};

// A column a sequence feeds (OWNED BY, or a default calling nextval() on
// it), and the largest integer value it holds in the rows read.
struct FedColumn {
  ColumnName column;
  RelationName sequence;
  bool found = false;   // the table's rows were read
  uint64_t values = 0;  // integer (non-NULL) values seen
  int64_t max = 0;      // valid when values > 0
};

struct SourceChecks {
  bool ran = false;  // false for a manifest (digests, no rows)
  std::string not_run_reason;
  std::vector<TableTemporal> temporal;  // sorted by (schema, name)
  std::vector<ChainCheck> chains;
  std::vector<GapCheck> gaps;
  std::vector<OrphanCheck> orphans;
  std::string fk_note;  // e.g. a plain dump names its FKs only after the data
  std::vector<FedColumn> fed_columns;
  // Latest record time over all tables, if any.
  std::optional<int64_t> LatestRecord() const;
};

// The observer that runs the checks (engine/src/drill/row_check.h) in a
// digest pass. Thread-safe as the pipeline requires; one per source.
class DrillObserver final : public RowObserver {
 public:
  explicit DrillObserver(CheckOptions options);
  ~DrillObserver() override;
  Status BeginSource(const TableStreamReader& reader) override;
  Status BeginTable(const TableInfo& table, uint32_t table_index) override;
  std::unique_ptr<Partial> Scan(const RowChunk& chunk) const override;
  void Fold(uint32_t table_index, std::unique_ptr<Partial> partial) override;
  void EndTable(uint32_t table_index) override;  // its layout and plans go

  // After the pass. Reads `source` again (only the child tables with
  // orphans) to name sample keys; null: no samples. `report` is the pass's
  // digest of the source (null: not known): the tables it holds that gave
  // no rows.
  Result<SourceChecks> Finish(Source* source, const DigestOptions& digest, const DigestReport* report);
  // The report's lines of every check, judged on both sides' results.
  void Judge(const SourceChecks& restored, const SourceChecks& source, std::vector<DrillCheck>& out) const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vouch
