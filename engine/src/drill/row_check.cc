#include "drill/row_check.h"

#include <algorithm>

#include "drill/chain_check.h"
#include "drill/gap_check.h"
#include "drill/orphan_check.h"
#include "drill/sequence_column_check.h"
#include "drill/temporal_check.h"
#include "vouch/base/civil_time.h"
#include "vouch/base/copy_text.h"
#include "vouch/hashing/row_hash.h"

namespace vouch::drill {

Result<LayoutPlanner> LayoutPlanner::Make(const CheckOptions& options) {
  LayoutPlanner p;
  p.window_ = options.recovery_window;
  for (const auto& ref : options.time_columns) {
    auto parsed = ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--time-column");
    const auto& [schema, table, column] = *parsed;
    p.record_columns_[schema + '\0' + table] = column;
  }
  return p;
}

Result<TableLayout> LayoutPlanner::Layout(const TableInfo& t) const {
  TableLayout l;
  l.table = &t;
  l.window = window_;
  for (const auto& k : t.key_columns) {
    if (auto i = ColumnIndex(t, k)) l.key_cols.push_back(*i);
  }
  for (const auto& c : t.time_columns) {
    if (auto i = ColumnIndex(t, c)) {
      l.time_cols.push_back(*i);
      l.time_names.push_back(c);
    }
  }
  auto chosen = record_columns_.find(t.schema + '\0' + t.name);
  if (chosen == record_columns_.end()) {
    if (!l.time_cols.empty()) l.record = 0;
    return l;
  }
  auto i = ColumnIndex(t, chosen->second);
  if (!i) {
    return InvalidArgument("--time-column " + t.QualifiedName() + "." + chosen->second +
                           ": the table has no such column (" + ColumnsList(t.columns) + ")");
  }
  auto it = std::find(l.time_cols.begin(), l.time_cols.end(), *i);
  if (it == l.time_cols.end()) {
    l.time_cols.push_back(*i);
    l.time_names.push_back(chosen->second);
    it = l.time_cols.end() - 1;
  }
  l.record = static_cast<int>(it - l.time_cols.begin());
  return l;
}

bool Row::InWindow() const {
  if (in_window_ < 0) {
    in_window_ = 0;
    if (layout_.window && layout_.record >= 0 && !fields_.empty()) {
      std::string_view v = fields_[layout_.time_cols[static_cast<size_t>(layout_.record)]];
      if (!IsCopyNull(v)) {
        auto us = ParseTimestampText(v);
        in_window_ = us && layout_.InWindow(*us) ? 1 : 0;
      }
    }
  }
  return in_window_ == 1;
}

std::vector<std::unique_ptr<RowCheck>> MakeRowChecks(const CheckOptions& options) {
  std::vector<std::unique_ptr<RowCheck>> checks;
  // memory_limit is shared: with audit chains to check, their pages get
  // half of it and the orphan check's key sets the other half.
  CheckOptions chain_share = options, orphan_share = options;
  if (!options.chains.empty()) chain_share.memory_limit = orphan_share.memory_limit = options.memory_limit / 2;
  checks.push_back(MakeChainCheck(chain_share));
  checks.push_back(MakeGapCheck(options));
  checks.push_back(MakeOrphanCheck(orphan_share));
  checks.push_back(MakeTemporalCheck(options));
  if (options.sequence_columns) checks.push_back(MakeSequenceColumnCheck(options));
  return checks;
}

std::optional<size_t> ColumnIndex(const TableInfo& t, const std::string& name) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i] == name) return i;
  }
  return std::nullopt;
}

bool SameTable(const TableInfo& t, const std::string& schema, const std::string& name) {
  return t.schema == schema && t.name == name;
}

bool OfTable(const TableInfo& t, const std::string& schema, const std::string& name) {
  return SameTable(t, schema, name) ||
         std::any_of(t.partition_ancestors.begin(), t.partition_ancestors.end(),
                     [&](const RelationName& a) { return a.schema == schema && a.name == name; });
}

std::string ColumnsList(const std::vector<std::string>& cols) {
  std::string s;
  for (const auto& c : cols) s += (s.empty() ? "" : ", ") + c;
  return s;
}

uint64_t KeyHash(const std::vector<std::string_view>& f, const std::vector<size_t>& cols, std::string& buf,
                 bool* is_null) {
  *is_null = false;
  if (cols.size() == 1) {
    std::string_view v = f[cols[0]];
    if (IsCopyNull(v)) {
      *is_null = true;
      return 0;
    }
    return Hash64(v.data(), v.size());
  }
  buf.clear();
  for (size_t c : cols) {
    if (IsCopyNull(f[c])) {
      *is_null = true;
      return 0;
    }
    buf.append(f[c]);
    buf.push_back('\t');
  }
  return Hash64(buf.data(), buf.size());
}

std::string DescribeRow(const std::vector<std::string_view>& f, const TableInfo& t, const std::vector<size_t>& key,
                        const std::vector<size_t>& extra) {
  std::string out, v;
  auto add = [&](size_t c) {
    if (!out.empty()) out += ", ";
    out += t.columns[c] + "=";
    if (IsCopyNull(f[c])) {
      out += "NULL";
      return;
    }
    v.clear();
    CopyUnescape(f[c], v);
    out += v;
  };
  for (size_t c : key) add(c);
  if (!extra.empty()) {
    std::string keys = std::move(out);
    out.clear();
    for (size_t c : extra) add(c);
    out = keys.empty() ? out : keys + " (" + out + ")";
  }
  return out;
}

std::string Facts(std::initializer_list<std::pair<const char*, uint64_t>> facts) {
  std::string out;
  for (const auto& [name, value] : facts)
    out += (out.empty() ? "" : " ") + std::string(name) + "=" + std::to_string(value);
  return out;
}

GapOptions SequenceGapOptions(const CheckOptions& options, const SeqWindow& window) {
  GapOptions go;
  go.suspicious_size = std::max<uint64_t>(1, options.gap_threshold);
  go.window = window.Range();
  go.max_ranges = options.max_samples;
  return go;
}

}  // namespace vouch::drill
