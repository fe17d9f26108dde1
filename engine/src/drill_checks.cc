#include "vouch/engine/drill_checks.h"

#include <map>
#include <shared_mutex>
#include <tuple>

#include "drill/row_check.h"
#include "vouch/base/copy_text.h"

namespace vouch {
// ---------------------------------------------------------------------------
// Parsing helpers.

Result<std::tuple<std::string, std::string, std::string>> ParseColumnRef(const std::string& text) {
  size_t last = text.rfind('.');
  if (last == std::string::npos || last == 0 || last + 1 == text.size()) {
    return InvalidArgument("'" + text + "': expected [schema.]table.column");
  }
  std::string table = text.substr(0, last), column = text.substr(last + 1), schema = "public";
  size_t dot = table.find('.');
  if (dot != std::string::npos) {
    schema = table.substr(0, dot);
    table = table.substr(dot + 1);
    if (schema.empty() || table.empty() || table.find('.') != std::string::npos) {
      return InvalidArgument("'" + text + "': expected [schema.]table.column");
    }
  }
  return std::make_tuple(schema, table, column);
}

Result<ForeignKey> ParseForeignKeyFlag(const std::string& text) {
  // child(a,b)=parent(x,y)
  auto side = [&](std::string_view s, std::string* schema, std::string* table, std::vector<std::string>* cols) -> bool {
    size_t open = s.find('(');
    if (open == std::string_view::npos || open == 0 || s.back() != ')') return false;
    std::string name(s.substr(0, open));
    *schema = "public";
    size_t dot = name.find('.');
    if (dot != std::string::npos) {
      *schema = name.substr(0, dot);
      name = name.substr(dot + 1);
    }
    if (schema->empty() || name.empty()) return false;
    *table = name;
    std::string_view inner = s.substr(open + 1, s.size() - open - 2);
    while (true) {
      size_t comma = inner.find(',');
      std::string_view c = inner.substr(0, comma);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
      if (c.empty()) return false;
      cols->emplace_back(c);
      if (comma == std::string_view::npos) break;
      inner.remove_prefix(comma + 1);
    }
    return true;
  };
  size_t eq = text.find(")=");
  ForeignKey fk;
  if (eq == std::string::npos || !side(std::string_view(text).substr(0, eq + 1), &fk.schema, &fk.table, &fk.columns) ||
      !side(std::string_view(text).substr(eq + 2), &fk.ref_schema, &fk.ref_table, &fk.ref_columns)) {
    return InvalidArgument("--fk '" + text + "': expected child(col[,col...])=parent(col[,col...])");
  }
  if (fk.columns.size() != fk.ref_columns.size()) {
    return InvalidArgument("--fk '" + text + "': the two column lists differ in length");
  }
  fk.name = "declared";
  return fk;
}

// ---------------------------------------------------------------------------
// Report helpers.

const TimeColumnStats* TableTemporal::record() const {
  for (const auto& c : columns) {
    if (c.column == record_column) return &c;
  }
  return nullptr;
}

std::string TableTemporal::QualifiedName() const { return QualifiedTableName(schema, name); }

bool ChainCheck::Passed() const {
  return found && error.empty() && bad_rows == 0 && result.entries > 0 && result.link_failures == 0 &&
         result.continuity_breaks == 0 && result.duplicates == 0 && gaps.suspicious == 0;
}

bool ChainCheck::SpecLooksWrong() const { return found && error.empty() && result.all_links_fail(); }

bool GapCheck::Passed() const { return found && non_integer == 0 && result.suspicious == 0; }

std::string OrphanCheck::Name() const {
  return QualifiedTableName(fk.schema, fk.table) + "(" + drill::ColumnsList(fk.columns) + ") → " +
         QualifiedTableName(fk.ref_schema, fk.ref_table) + "(" + drill::ColumnsList(fk.ref_columns) + ")";
}

std::optional<int64_t> SourceChecks::LatestRecord() const {
  std::optional<int64_t> latest;
  for (const auto& t : temporal) {
    const TimeColumnStats* r = t.record();
    if (r == nullptr || r->values == 0) continue;
    // Future timestamps are violations, not the latest committed write.
    if (!latest || r->max_us > *latest) latest = r->max_us;
  }
  return latest;
}

// ---------------------------------------------------------------------------
// The observer: the list of checks (drill/row_check.h), each table's layout
// and the checks' plans for it, one partial per check and chunk.

namespace {

struct TableChecks {
  drill::TableLayout layout;
  std::vector<std::unique_ptr<drill::CheckPlan>> plans;  // per check; null: the check skips the table
  std::vector<size_t> scanning;                          // the checks whose plan scans rows
  bool needs_fields = false;
};

struct ChunkPartial final : RowObserver::Partial {
  uint64_t rows = 0;
  std::vector<std::unique_ptr<drill::CheckPartial>> parts;  // per check, as TableChecks::plans
};

}  // namespace

struct DrillObserver::State {
  CheckOptions options;
  std::vector<std::unique_ptr<drill::RowCheck>> checks;
  std::optional<drill::LayoutPlanner> layouts;
  mutable std::shared_mutex mu;  // tables (BeginTable adds while Scans read)
  std::map<uint32_t, std::unique_ptr<TableChecks>> tables;

  const TableChecks* Table(uint32_t index) const {
    std::shared_lock lock(mu);
    auto it = tables.find(index);
    return it == tables.end() ? nullptr : it->second.get();
  }
};

DrillObserver::DrillObserver(CheckOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->checks = drill::MakeRowChecks(state_->options);
}

DrillObserver::~DrillObserver() = default;

Status DrillObserver::BeginSource(const TableStreamReader& reader) {
  State& s = *state_;
  for (auto& check : s.checks) {
    if (Status st = check->Begin(reader); !st.ok()) return st;
  }
  auto layouts = drill::LayoutPlanner::Make(s.options);
  if (!layouts.ok()) return layouts.status();
  s.layouts = std::move(layouts).value();
  return Status::Ok();
}

Status DrillObserver::BeginTable(const TableInfo& t, uint32_t index) {
  State& s = *state_;
  auto table = std::make_unique<TableChecks>();
  auto layout = s.layouts->Layout(t);
  if (!layout.ok()) return layout.status();
  table->layout = std::move(layout).value();
  for (size_t i = 0; i < s.checks.size(); ++i) {
    auto plan = s.checks[i]->Plan(table->layout);
    if (!plan.ok()) return plan.status();
    if (*plan && (*plan)->scans) {
      table->scanning.push_back(i);
      table->needs_fields |= (*plan)->needs_fields;
    }
    table->plans.push_back(std::move(plan).value());
  }
  std::unique_lock lock(s.mu);
  s.tables[index] = std::move(table);
  return Status::Ok();
}

std::unique_ptr<RowObserver::Partial> DrillObserver::Scan(const RowChunk& chunk) const {
  const State& s = *state_;
  const TableChecks* t = s.Table(chunk.table_index);
  if (t == nullptr) return nullptr;
  auto part = std::make_unique<ChunkPartial>();
  part->parts.resize(s.checks.size());
  for (size_t i = 0; i < s.checks.size(); ++i) {
    if (t->plans[i]) part->parts[i] = s.checks[i]->NewPartial(*t->plans[i]);
  }
  std::vector<std::string_view> f;
  const size_t columns = t->layout.table->columns.size();
  ForEachRow(chunk, [&](std::string_view text) {
    ++part->rows;
    if (t->needs_fields) {
      SplitCopyRow(text, f);
      if (f.size() != columns) return true;  // the digest pass reports malformed rows
    }
    drill::Row row(t->layout, text, chunk.offset + static_cast<uint64_t>(text.data() - chunk.data.data()), f);
    for (size_t i : t->scanning) s.checks[i]->Scan(*t->plans[i], row, *part->parts[i]);
    return true;
  });
  return part;
}

void DrillObserver::Fold(uint32_t index, std::unique_ptr<Partial> partial) {
  State& s = *state_;
  auto* part = static_cast<ChunkPartial*>(partial.get());
  const TableChecks* t = s.Table(index);
  if (t == nullptr || part == nullptr) return;
  for (size_t i = 0; i < s.checks.size(); ++i) {
    if (t->plans[i]) s.checks[i]->Fold(*t->plans[i], *part->parts[i], part->rows);
  }
}

void DrillObserver::EndTable(uint32_t index) {
  std::unique_lock lock(state_->mu);
  state_->tables.erase(index);
}

Result<SourceChecks> DrillObserver::Finish(Source* source, const DigestOptions& digest, const DigestReport* report) {
  SourceChecks out;
  out.ran = true;
  const drill::FinishContext context{source, digest, report};
  for (auto& check : state_->checks) {
    if (Status s = check->Finish(context, out); !s.ok()) return s;
  }
  // Tables of a reader that does not mark their ends were kept to here.
  std::unique_lock lock(state_->mu);
  state_->tables.clear();
  return out;
}

void DrillObserver::Judge(const SourceChecks& restored, const SourceChecks& source,
                          std::vector<DrillCheck>& out) const {
  for (const auto& check : state_->checks) check->Judge(restored, source, out);
}

}  // namespace vouch
