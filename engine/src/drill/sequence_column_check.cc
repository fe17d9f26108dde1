#include "drill/sequence_column_check.h"

#include <charconv>
#include <deque>
#include <map>

namespace vouch::drill {
namespace {

struct ColumnPlan final : CheckPlan {
  // (COPY index, its entry in columns_): a pointer, as Fold runs while Plan
  // adds the next table's entries.
  std::vector<std::pair<size_t, FedColumn*>> columns;
};

struct ColumnPartial final : CheckPartial {
  explicit ColumnPartial(size_t n) : values(n, 0), max(n, std::numeric_limits<int64_t>::min()) {}
  std::vector<uint64_t> values;
  std::vector<int64_t> max;
};

class SequenceColumnCheck final : public RowCheck {
 public:
  Status Begin(const TableStreamReader& reader) override {
    reader_ = &reader;
    return Status::Ok();
  }

  Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& layout) override {
    const auto* seqs = reader_ ? reader_->sequences() : nullptr;
    if (seqs == nullptr) return std::unique_ptr<CheckPlan>();
    // A plain dump defines its sequences as it goes, all of them (and the
    // columns they feed: pre-data) before its first row: the map is rebuilt
    // only when their number changed, not per table.
    if (seqs->size() != sequences_seen_) {
      sequences_seen_ = seqs->size();
      by_table_.clear();
      for (const SequenceInfo& s : *seqs) {
        auto add = [&](const ColumnName& c) {
          auto& list = by_table_[{c.schema, c.table}];
          for (const auto& [col, seq] : list) {
            if (col == c.column && seq == RelationName{s.schema, s.name}) return;
          }
          list.emplace_back(c.column, RelationName{s.schema, s.name});
        };
        for (const ColumnName& c : s.feeds) add(c);
        if (!s.owned_by.column.empty()) add(s.owned_by);
      }
    }
    const TableInfo& t = *layout.table;
    auto it = by_table_.find({t.schema, t.name});
    if (it == by_table_.end()) return std::unique_ptr<CheckPlan>();
    auto plan = std::make_unique<ColumnPlan>();
    plan->needs_fields = true;
    for (const auto& [col, seq] : it->second) {
      auto i = ColumnIndex(t, col);
      if (!i) continue;  // a generated or dropped column: no values to read
      FedColumn f;
      f.column = {t.schema, t.name, col};
      f.sequence = seq;
      f.found = true;
      columns_.push_back(std::move(f));
      plan->columns.emplace_back(*i, &columns_.back());
    }
    if (plan->columns.empty()) return std::unique_ptr<CheckPlan>();
    return std::unique_ptr<CheckPlan>(std::move(plan));
  }

  std::unique_ptr<CheckPartial> NewPartial(const CheckPlan& p) const override {
    return std::make_unique<ColumnPartial>(static_cast<const ColumnPlan&>(p).columns.size());
  }

  void Scan(const CheckPlan& p, const Row& row, CheckPartial& out) const override {
    const auto& plan = static_cast<const ColumnPlan&>(p);
    auto& part = static_cast<ColumnPartial&>(out);
    for (size_t k = 0; k < plan.columns.size(); ++k) {
      std::string_view v = row.fields()[plan.columns[k].first];
      int64_t x;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || ptr != v.data() + v.size()) continue;  // NULL (\N) or not an integer
      ++part.values[k];
      if (x > part.max[k]) part.max[k] = x;
    }
  }

  void Fold(const CheckPlan& p, CheckPartial& in, uint64_t) override {
    const auto& plan = static_cast<const ColumnPlan&>(p);
    auto& part = static_cast<ColumnPartial&>(in);
    for (size_t k = 0; k < plan.columns.size(); ++k) {
      FedColumn& f = *plan.columns[k].second;
      if (part.values[k] == 0) continue;
      f.max = f.values == 0 ? part.max[k] : std::max(f.max, part.max[k]);
      f.values += part.values[k];
    }
  }

  Status Finish(const FinishContext&, SourceChecks& out) override {
    out.fed_columns.assign(columns_.begin(), columns_.end());
    return Status::Ok();
  }

  // Judged in drill.cc, where both sides' sequence states are known.
  void Judge(const SourceChecks&, const SourceChecks&, std::vector<DrillCheck>&) const override {}

 private:
  const TableStreamReader* reader_ = nullptr;
  size_t sequences_seen_ = static_cast<size_t>(-1);
  std::map<RelationName, std::vector<std::pair<std::string, RelationName>>> by_table_;
  // A deque: appending (Plan, the input stage) never moves the entries that
  // Fold (the fold stage, at the same time) writes through its plan.
  std::deque<FedColumn> columns_;
};

}  // namespace

std::unique_ptr<RowCheck> MakeSequenceColumnCheck(const CheckOptions&) { return std::make_unique<SequenceColumnCheck>(); }

}  // namespace vouch::drill
