#include "drill/temporal_check.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <tuple>

#include "vouch/base/civil_time.h"
#include "vouch/base/copy_text.h"

namespace vouch::drill {
namespace {

struct Times {
  uint64_t values = 0, nulls = 0, future = 0, in_window = 0, invalid = 0;
  int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
  std::vector<std::string> future_samples;
  void Merge(const Times& o, size_t max_samples) {
    values += o.values;
    nulls += o.nulls;
    future += o.future;
    in_window += o.in_window;
    invalid += o.invalid;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    for (const auto& s : o.future_samples) {
      if (future_samples.size() < max_samples) future_samples.push_back(s);
    }
  }
};

// A table's result as it accumulates: what Finish needs of the layout is
// copied (the table itself is gone by then), and its statistics.
struct Table {
  TableTemporal out;         // schema, name, record column, column names
  std::vector<Times> times;  // per out.columns
};

// A table without a timestamp column: its rows are counted, and nothing
// else is (at 100,000 tables, half the memory of a Table each).
struct Bare {
  std::string schema, name;
  uint64_t rows = 0;
};

struct TemporalPlan final : CheckPlan {
  // The table's entry in the check's tables_ (or bare_): a pointer, as Fold
  // (the pipeline's last stage) runs while Plan (its first) adds the next
  // table's entry.
  Table* table = nullptr;
  Bare* bare = nullptr;
  const TableLayout* layout = nullptr;
};

struct TemporalPartial final : CheckPartial {
  explicit TemporalPartial(size_t n) : times(n) {}
  std::vector<Times> times;
};

class TemporalRowCheck final : public RowCheck {
 public:
  explicit TemporalRowCheck(const CheckOptions& options) : max_samples_(options.max_samples) {
    int64_t now =
        options.now_us != 0
            ? options.now_us
            : std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
    future_limit_ = now + options.future_skew_us;
  }

  Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& layout) override {
    auto plan = std::make_unique<TemporalPlan>();
    plan->layout = &layout;
    if (layout.time_cols.empty()) {
      plan->bare = &bare_.emplace_back(Bare{layout.table->schema, layout.table->name});
      plan->needs_fields = plan->scans = false;
      return std::unique_ptr<CheckPlan>(std::move(plan));
    }
    Table& table = tables_.emplace_back();
    table.out.schema = layout.table->schema;
    table.out.name = layout.table->name;
    if (layout.record >= 0) table.out.record_column = layout.time_names[static_cast<size_t>(layout.record)];
    table.out.columns.resize(layout.time_names.size());
    for (size_t k = 0; k < layout.time_names.size(); ++k) table.out.columns[k].column = layout.time_names[k];
    table.times.resize(layout.time_cols.size());
    plan->table = &table;
    plan->needs_fields = plan->scans = true;
    return std::unique_ptr<CheckPlan>(std::move(plan));
  }

  std::unique_ptr<CheckPartial> NewPartial(const CheckPlan& p) const override {
    return std::make_unique<TemporalPartial>(static_cast<const TemporalPlan&>(p).layout->time_cols.size());
  }

  void Scan(const CheckPlan& p, const Row& row, CheckPartial& out) const override {
    const TableLayout& layout = *static_cast<const TemporalPlan&>(p).layout;
    auto& part = static_cast<TemporalPartial&>(out);
    const auto& f = row.fields();
    for (size_t k = 0; k < layout.time_cols.size(); ++k) {
      std::string_view v = f[layout.time_cols[k]];
      Times& a = part.times[k];
      if (IsCopyNull(v)) {
        ++a.nulls;
        continue;
      }
      auto us = ParseTimestampText(v);
      if (!us) {
        if (v != "infinity" && v != "-infinity") ++a.invalid;
        continue;
      }
      ++a.values;
      a.min = std::min(a.min, *us);
      a.max = std::max(a.max, *us);
      if (*us > future_limit_) {
        ++a.future;
        if (a.future_samples.size() < max_samples_) {
          a.future_samples.push_back(DescribeRow(f, *layout.table, layout.key_cols, {layout.time_cols[k]}));
        }
      }
      if (static_cast<int>(k) == layout.record && layout.InWindow(*us)) ++a.in_window;
    }
  }

  void Fold(const CheckPlan& p, CheckPartial& in, uint64_t rows) override {
    const auto& plan = static_cast<const TemporalPlan&>(p);
    if (plan.bare != nullptr) {
      plan.bare->rows += rows;
      return;
    }
    Table& t = *plan.table;
    auto& part = static_cast<TemporalPartial&>(in);
    t.out.rows += rows;
    for (size_t k = 0; k < part.times.size(); ++k) t.times[k].Merge(part.times[k], max_samples_);
  }

  // Hands the tables' results over, emptying tables_ as it goes (at 100,000
  // tables the two lists are tens of MB each).
  Status Finish(const FinishContext&, SourceChecks& out) override {
    out.temporal.reserve(out.temporal.size() + tables_.size() + bare_.size());
    while (!bare_.empty()) {
      Bare& b = bare_.front();
      TableTemporal t;
      t.schema = std::move(b.schema);
      t.name = std::move(b.name);
      t.rows = b.rows;
      out.temporal.push_back(std::move(t));
      bare_.pop_front();
    }
    while (!tables_.empty()) {
      Table& acc = tables_.front();
      for (size_t k = 0; k < acc.times.size(); ++k) {
        Times& a = acc.times[k];
        TimeColumnStats& c = acc.out.columns[k];
        c.values = a.values;
        c.nulls = a.nulls;
        c.future = a.future;
        c.in_window = a.in_window;
        c.invalid = a.invalid;
        if (a.values > 0) {
          c.min_us = a.min;
          c.max_us = a.max;
        }
        c.future_samples = std::move(a.future_samples);
      }
      out.temporal.push_back(std::move(acc.out));
      tables_.pop_front();
    }
    std::sort(out.temporal.begin(), out.temporal.end(), [](const TableTemporal& a, const TableTemporal& b) {
      return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
    });
    return Status::Ok();
  }

  // Future values in any timestamp column, NULLs in each table's record-time
  // column, over the restored copy.
  void Judge(const SourceChecks& restored, const SourceChecks&, std::vector<DrillCheck>& out) const override {
    uint64_t future = 0, nulls = 0;
    for (const auto& t : restored.temporal) {
      for (const auto& c : t.columns) {
        future += c.future;
        if (c.column == t.record_column) nulls += c.nulls;
      }
    }
    out.push_back({"Temporal", "future timestamps", future == 0, DrillSubject::kFutureTimestamps, 0,
                   Facts({{"future", future}})});
    out.push_back({"Temporal", "NULL record timestamps", nulls == 0, DrillSubject::kNullRecordTimes, 0,
                   Facts({{"nulls", nulls}})});
  }

 private:
  size_t max_samples_;
  int64_t future_limit_;  // now + skew, µs
  // Deques: entries stay where they are while Plan adds.
  std::deque<Table> tables_;
  std::deque<Bare> bare_;
};

}  // namespace

std::unique_ptr<RowCheck> MakeTemporalCheck(const CheckOptions& options) {
  return std::make_unique<TemporalRowCheck>(options);
}

}  // namespace vouch::drill
