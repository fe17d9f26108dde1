#include "drill/gap_check.h"

#include <charconv>
#include <tuple>

namespace vouch::drill {
namespace {

struct Column {
  GapCheck check;
  SeqGapTracker tracker;
  SeqWindow window;
};

struct GapPlan final : CheckPlan {
  std::vector<std::pair<size_t, size_t>> columns;  // (COPY index, the check's columns_ index)
};

struct GapPartial final : CheckPartial {
  explicit GapPartial(size_t n) : values(n), windows(n), bad(n) {}
  std::vector<std::vector<int64_t>> values;  // per GapPlan::columns
  std::vector<SeqWindow> windows;
  std::vector<uint64_t> bad;
};

class GapRowCheck final : public RowCheck {
 public:
  explicit GapRowCheck(const CheckOptions& options) : options_(options) {}

  Status Begin(const TableStreamReader&) override {
    for (const auto& ref : options_.gap_columns) {
      auto parsed = ParseColumnRef(ref);
      if (!parsed.ok()) return parsed.status().WithContext("--gap-column");
      auto g = std::make_unique<Column>();
      std::tie(g->check.schema, g->check.table, g->check.column) = *parsed;
      columns_.push_back(std::move(g));
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& layout) override {
    const TableInfo& t = *layout.table;
    std::unique_ptr<GapPlan> plan;
    for (size_t gi = 0; gi < columns_.size(); ++gi) {
      GapCheck& g = columns_[gi]->check;
      if (!SameTable(t, g.schema, g.table)) continue;
      auto i = ColumnIndex(t, g.column);
      if (!i) {
        return InvalidArgument("--gap-column " + t.QualifiedName() + "." + g.column +
                               ": the table has no such column (" + ColumnsList(t.columns) + ")");
      }
      g.found = true;
      if (!plan) plan = std::make_unique<GapPlan>();
      plan->needs_fields = true;
      plan->columns.emplace_back(*i, gi);
    }
    return std::unique_ptr<CheckPlan>(std::move(plan));
  }

  std::unique_ptr<CheckPartial> NewPartial(const CheckPlan& p) const override {
    return std::make_unique<GapPartial>(static_cast<const GapPlan&>(p).columns.size());
  }

  void Scan(const CheckPlan& p, const Row& row, CheckPartial& out) const override {
    const auto& plan = static_cast<const GapPlan&>(p);
    auto& part = static_cast<GapPartial&>(out);
    for (size_t k = 0; k < plan.columns.size(); ++k) {
      std::string_view v = row.fields()[plan.columns[k].first];
      int64_t x;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || ptr != v.data() + v.size()) {
        ++part.bad[k];
        continue;
      }
      part.values[k].push_back(x);
      if (row.InWindow()) part.windows[k].Add(x);
    }
  }

  void Fold(const CheckPlan& p, CheckPartial& in, uint64_t) override {
    const auto& plan = static_cast<const GapPlan&>(p);
    auto& part = static_cast<GapPartial&>(in);
    for (size_t k = 0; k < plan.columns.size(); ++k) {
      Column& g = *columns_[plan.columns[k].second];
      for (int64_t v : part.values[k]) g.tracker.Add(v);
      g.check.non_integer += part.bad[k];
      g.window.Merge(part.windows[k]);
    }
  }

  Status Finish(const FinishContext&, SourceChecks& out) override {
    for (auto& g : columns_) {
      g->check.result = g->tracker.Finish(SequenceGapOptions(options_, g->window));
      out.gaps.push_back(g->check);
    }
    return Status::Ok();
  }

  void Judge(const SourceChecks& restored, const SourceChecks&, std::vector<DrillCheck>& out) const override {
    for (size_t i = 0; i < restored.gaps.size(); ++i) {
      const GapCheck& g = restored.gaps[i];
      out.push_back({"Sequence Gaps", QualifiedTableName(g.schema, g.table) + "." + g.column + " gaps", g.Passed(),
                     DrillSubject::kGaps, i,
                     Facts({{"found", g.found},
                            {"gaps", g.result.gaps},
                            {"suspicious", g.result.suspicious},
                            {"non_integer", g.non_integer}})});
    }
  }

 private:
  CheckOptions options_;
  std::vector<std::unique_ptr<Column>> columns_;  // one per --gap-column
};

}  // namespace

std::unique_ptr<RowCheck> MakeGapCheck(const CheckOptions& options) { return std::make_unique<GapRowCheck>(options); }

}  // namespace vouch::drill
