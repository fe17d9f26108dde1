#include "vouch/engine/drill_checks.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <shared_mutex>
#include <tuple>
#include <unordered_set>

#include "vouch/base/civil_time.h"
#include "vouch/base/copy_text.h"
#include "vouch/chain/link_verifier.h"
#include "vouch/hashing/row_hash.h"

namespace vouch {
namespace {

// A key (or reference) of a row: its fields joined by '\t', hashed. Any NULL
// field makes the reference NULL (MATCH SIMPLE): *is_null.
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

// "id=7" for the row's key columns (or the given columns when it has none).
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

std::optional<size_t> ColumnIndex(const TableInfo& t, const std::string& name) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i] == name) return i;
  }
  return std::nullopt;
}

bool SameTable(const TableInfo& t, const std::string& schema, const std::string& name) {
  return t.schema == schema && t.name == name;
}

std::string ColumnsList(const std::vector<std::string>& cols) {
  std::string s;
  for (const auto& c : cols) s += (s.empty() ? "" : ", ") + c;
  return s;
}

}  // namespace

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
  return QualifiedTableName(fk.schema, fk.table) + "(" + ColumnsList(fk.columns) + ") → " +
         QualifiedTableName(fk.ref_schema, fk.ref_table) + "(" + ColumnsList(fk.ref_columns) + ")";
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
// The observer.

namespace {

struct TimeAcc {
  uint64_t values = 0, nulls = 0, future = 0, in_window = 0, invalid = 0;
  int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
  std::vector<std::string> future_samples;
  void Merge(const TimeAcc& o, size_t max_samples) {
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

struct FkState {
  OrphanCheck check;
  std::vector<size_t> child_cols, parent_cols;  // resolved per table in plans
  std::vector<uint64_t> parent_hashes, child_hashes;
  bool child_seen = false, parent_seen = false;
  std::unordered_set<uint64_t> orphan_hashes;  // after Finish's first step
};

struct ChainState {
  ChainCheck check;
  std::unique_ptr<LinkVerifier> verifier;
  std::unique_ptr<ChainContinuity> continuity;
  SeqGapTracker gaps;
  SeqWindow window;
};

struct GapState {
  GapCheck check;
  SeqGapTracker tracker;
  SeqWindow window;
};

struct TablePlan {
  const TableInfo* table = nullptr;
  std::vector<size_t> key_cols;
  std::vector<size_t> time_cols;  // COPY indexes, in time_columns order
  std::vector<std::string> time_names;
  int record = -1;                                                // index into time_cols
  int chain = -1;                                                 // index into State::chains
  std::vector<std::pair<size_t, size_t>> gaps;                    // (column, GapState index)
  std::vector<std::pair<size_t, std::vector<size_t>>> fk_parent;  // (FkState index, columns)
  std::vector<std::pair<size_t, std::vector<size_t>>> fk_child;
  bool needs_fields() const { return !time_cols.empty() || !gaps.empty() || !fk_parent.empty() || !fk_child.empty(); }
};

struct TableAcc {
  std::string schema, name;
  uint64_t rows = 0;
  std::vector<std::string> time_names;
  std::string record_column;
  std::vector<TimeAcc> times;
};

struct ChunkPartial final : RowObserver::Partial {
  uint64_t rows = 0;
  std::vector<TimeAcc> times;
  std::vector<ChainLink> links;
  uint64_t bad_links = 0;
  std::vector<std::string> bad_link_samples;
  int64_t head_seq = std::numeric_limits<int64_t>::min();
  std::string head_hash;
  SeqWindow chain_window;
  std::vector<std::vector<int64_t>> gap_values;  // per plan.gaps
  std::vector<SeqWindow> gap_windows;            // per plan.gaps
  std::vector<uint64_t> gap_bad;
  std::vector<std::vector<uint64_t>> parent_hashes;  // per plan.fk_parent
  std::vector<std::vector<uint64_t>> child_hashes;   // per plan.fk_child
  std::vector<uint64_t> child_nulls;
};

}  // namespace

struct DrillObserver::State {
  CheckOptions options;
  int64_t now = 0;
  mutable std::shared_mutex mu;  // plans (BeginTable adds while Scans read)
  std::map<uint32_t, std::unique_ptr<TablePlan>> plans;
  std::map<uint32_t, TableAcc> accs;
  std::vector<std::unique_ptr<ChainState>> chains;
  std::vector<std::unique_ptr<GapState>> gaps;
  std::vector<std::unique_ptr<FkState>> fks;
  std::string fk_note;
  // --time-column choices: "schema\0table" → column.
  std::map<std::string, std::string> record_columns;

  const TablePlan* Plan(uint32_t index) const {
    std::shared_lock lock(mu);
    auto it = plans.find(index);
    return it == plans.end() ? nullptr : it->second.get();
  }
};

DrillObserver::DrillObserver(CheckOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->now =
      state_->options.now_us != 0
          ? state_->options.now_us
          : std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
}

DrillObserver::~DrillObserver() = default;

Status DrillObserver::BeginSource(const TableStreamReader& reader) {
  State& s = *state_;
  for (const auto& spec : s.options.chains) {
    auto c = std::make_unique<ChainState>();
    c->check.spec = spec;
    c->check.description = DescribeChainSpec(spec);
    s.chains.push_back(std::move(c));
  }
  for (const auto& ref : s.options.gap_columns) {
    auto parsed = ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--gap-column");
    auto g = std::make_unique<GapState>();
    std::tie(g->check.schema, g->check.table, g->check.column) = *parsed;
    s.gaps.push_back(std::move(g));
  }
  for (const auto& ref : s.options.time_columns) {
    auto parsed = ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--time-column");
    const auto& [schema, table, column] = *parsed;
    s.record_columns[schema + '\0' + table] = column;
  }
  std::vector<ForeignKey> fks;
  if (s.options.catalog_fks) {
    if (const auto* known = reader.foreign_keys()) {
      fks = *known;
    } else {
      s.fk_note =
          "the source names its foreign keys only after its data (a plain dump): only --fk relationships "
          "were checked";
    }
  }
  if (s.options.catalog_fks) {
    for (const auto& o : s.options.other_side_fks) {
      bool known = std::any_of(fks.begin(), fks.end(), [&](const ForeignKey& k) {
        return std::tie(k.schema, k.table, k.columns, k.ref_schema, k.ref_table, k.ref_columns) ==
               std::tie(o.schema, o.table, o.columns, o.ref_schema, o.ref_table, o.ref_columns);
      });
      if (!known) fks.push_back(o);
    }
  }
  size_t catalog = fks.size();
  fks.insert(fks.end(), s.options.declared_fks.begin(), s.options.declared_fks.end());
  for (size_t i = 0; i < fks.size(); ++i) {
    auto f = std::make_unique<FkState>();
    f->check.fk = fks[i];
    f->check.declared = i >= catalog;
    s.fks.push_back(std::move(f));
  }
  return Status::Ok();
}

Status DrillObserver::BeginTable(const TableInfo& t, uint32_t index) {
  State& s = *state_;
  auto plan = std::make_unique<TablePlan>();
  plan->table = &t;
  for (const auto& k : t.key_columns) {
    if (auto i = ColumnIndex(t, k)) plan->key_cols.push_back(*i);
  }
  TableAcc acc;
  acc.schema = t.schema;
  acc.name = t.name;
  auto chosen = s.record_columns.find(t.schema + '\0' + t.name);
  for (const auto& c : t.time_columns) {
    if (auto i = ColumnIndex(t, c)) {
      plan->time_cols.push_back(*i);
      plan->time_names.push_back(c);
    }
  }
  if (chosen != s.record_columns.end()) {
    auto i = ColumnIndex(t, chosen->second);
    if (!i) {
      return InvalidArgument("--time-column " + t.QualifiedName() + "." + chosen->second +
                             ": the table has no such column (" + ColumnsList(t.columns) + ")");
    }
    auto it = std::find(plan->time_cols.begin(), plan->time_cols.end(), *i);
    if (it == plan->time_cols.end()) {
      plan->time_cols.push_back(*i);
      plan->time_names.push_back(chosen->second);
      it = plan->time_cols.end() - 1;
    }
    plan->record = static_cast<int>(it - plan->time_cols.begin());
  } else if (!plan->time_cols.empty()) {
    plan->record = 0;
  }
  acc.time_names = plan->time_names;
  acc.times.resize(plan->time_cols.size());
  if (plan->record >= 0) acc.record_column = plan->time_names[static_cast<size_t>(plan->record)];

  for (size_t ci = 0; ci < s.chains.size(); ++ci) {
    ChainState& c = *s.chains[ci];
    const auto [schema, name] = ChainTableName(c.check.spec);
    if (!SameTable(t, schema, name)) continue;
    c.check.found = true;
    std::vector<bool> is_time(t.columns.size(), false);
    for (size_t i : plan->time_cols) is_time[i] = true;
    auto v = LinkVerifier::Make(c.check.spec, t.columns, is_time);
    if (!v.ok()) {
      c.check.error = v.status().message();
      continue;
    }
    c.verifier = std::make_unique<LinkVerifier>(std::move(v).value());
    c.continuity = std::make_unique<ChainContinuity>(c.verifier->HasGenesis(), c.verifier->GenesisFingerprint());
    plan->chain = static_cast<int>(ci);
  }
  for (size_t gi = 0; gi < s.gaps.size(); ++gi) {
    GapState& g = *s.gaps[gi];
    if (!SameTable(t, g.check.schema, g.check.table)) continue;
    auto i = ColumnIndex(t, g.check.column);
    if (!i) {
      return InvalidArgument("--gap-column " + t.QualifiedName() + "." + g.check.column +
                             ": the table has no such column (" + ColumnsList(t.columns) + ")");
    }
    g.check.found = true;
    plan->gaps.emplace_back(*i, gi);
  }
  for (size_t fi = 0; fi < s.fks.size(); ++fi) {
    FkState& f = *s.fks[fi];
    const ForeignKey& fk = f.check.fk;
    for (int side = 0; side < 2; ++side) {
      bool parent = side == 1;
      if (!SameTable(t, parent ? fk.ref_schema : fk.schema, parent ? fk.ref_table : fk.table)) continue;
      std::vector<size_t> cols;
      for (const auto& c : parent ? fk.ref_columns : fk.columns) {
        auto i = ColumnIndex(t, c);
        if (!i) {
          if (f.check.declared) {
            return InvalidArgument("--fk: " + t.QualifiedName() + " has no column " + c + " (" +
                                   ColumnsList(t.columns) + ")");
          }
          f.check.not_checked = t.QualifiedName() + " has no column " + c;
          cols.clear();
          break;
        }
        cols.push_back(*i);
      }
      if (cols.empty()) continue;
      (parent ? f.parent_seen : f.child_seen) = true;
      (parent ? plan->fk_parent : plan->fk_child).emplace_back(fi, std::move(cols));
    }
  }
  std::unique_lock lock(s.mu);
  s.plans[index] = std::move(plan);
  s.accs[index] = std::move(acc);
  return Status::Ok();
}

std::unique_ptr<RowObserver::Partial> DrillObserver::Scan(const RowChunk& chunk) const {
  const State& s = *state_;
  const TablePlan* plan = s.Plan(chunk.table_index);
  if (plan == nullptr) return nullptr;
  auto part = std::make_unique<ChunkPartial>();
  const ChainState* chain = plan->chain >= 0 ? s.chains[static_cast<size_t>(plan->chain)].get() : nullptr;
  LinkVerifier::Scratch scratch;
  std::vector<std::string_view> f;
  std::string keybuf;
  part->times.resize(plan->time_cols.size());
  part->gap_values.resize(plan->gaps.size());
  part->gap_windows.resize(plan->gaps.size());
  part->gap_bad.resize(plan->gaps.size());
  part->parent_hashes.resize(plan->fk_parent.size());
  part->child_hashes.resize(plan->fk_child.size());
  part->child_nulls.resize(plan->fk_child.size());
  const auto& window = s.options.recovery_window;
  const int64_t future_limit = s.now + s.options.future_skew_us;
  const size_t max_samples = s.options.max_samples;
  const bool fields = plan->needs_fields();

  ForEachRow(chunk, [&](std::string_view row) {
    ++part->rows;
    // The row's record time (its table's record column) lies inside the
    // recovery window: its chain seq and gap-column values are "written in
    // the window".
    bool in_window = false;
    if (fields) {
      SplitCopyRow(row, f);
      if (f.size() != plan->table->columns.size()) return true;  // the digest pass reports malformed rows
      for (size_t k = 0; k < plan->time_cols.size(); ++k) {
        std::string_view v = f[plan->time_cols[k]];
        TimeAcc& a = part->times[k];
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
        if (*us > future_limit) {
          ++a.future;
          if (a.future_samples.size() < max_samples) {
            a.future_samples.push_back(DescribeRow(f, *plan->table, plan->key_cols, {plan->time_cols[k]}));
          }
        }
        if (static_cast<int>(k) == plan->record && window && *us >= window->first && *us <= window->second) {
          in_window = true;
          ++a.in_window;
        }
      }
      for (size_t k = 0; k < plan->gaps.size(); ++k) {
        std::string_view v = f[plan->gaps[k].first];
        int64_t x;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (ec != std::errc() || ptr != v.data() + v.size()) {
          ++part->gap_bad[k];
          continue;
        }
        part->gap_values[k].push_back(x);
        if (in_window) part->gap_windows[k].Add(x);
      }
      bool null_ref;
      for (size_t k = 0; k < plan->fk_parent.size(); ++k) {
        uint64_t h = KeyHash(f, plan->fk_parent[k].second, keybuf, &null_ref);
        if (!null_ref) part->parent_hashes[k].push_back(h);
      }
      for (size_t k = 0; k < plan->fk_child.size(); ++k) {
        uint64_t h = KeyHash(f, plan->fk_child[k].second, keybuf, &null_ref);
        if (null_ref)
          ++part->child_nulls[k];
        else
          part->child_hashes[k].push_back(h);
      }
    }
    if (chain != nullptr) {
      ChainLink link;
      auto outcome = chain->verifier->Verify(row, scratch, &link);
      if (outcome == LinkVerifier::kBadSeq || outcome == LinkVerifier::kFieldCount) {
        ++part->bad_links;
        if (part->bad_link_samples.size() < max_samples) {
          part->bad_link_samples.push_back(
              "row at uncompressed byte offset " +
              std::to_string(chunk.offset + static_cast<uint64_t>(row.data() - chunk.data.data())) +
              (outcome == LinkVerifier::kBadSeq ? ": sequence value is NULL or not an integer"
                                                : ": wrong number of fields"));
        }
        return true;
      }
      part->links.push_back(link);
      if (link.seq >= part->head_seq) {
        part->head_seq = link.seq;
        part->head_hash.assign(chain->verifier->StoredHash(row, scratch));
      }
      if (in_window) part->chain_window.Add(link.seq);
    }
    return true;
  });
  return part;
}

void DrillObserver::Fold(uint32_t index, std::unique_ptr<Partial> partial) {
  State& s = *state_;
  auto* part = static_cast<ChunkPartial*>(partial.get());
  const TablePlan* plan = s.Plan(index);
  if (plan == nullptr || part == nullptr) return;
  TableAcc& acc = s.accs[index];
  acc.rows += part->rows;
  for (size_t k = 0; k < part->times.size(); ++k) acc.times[k].Merge(part->times[k], s.options.max_samples);
  if (plan->chain >= 0) {
    ChainState& c = *s.chains[static_cast<size_t>(plan->chain)];
    for (const ChainLink& l : part->links) {
      c.continuity->Add(l);
      c.gaps.Add(l.seq);
    }
    c.check.bad_rows += part->bad_links;
    for (auto& b : part->bad_link_samples) {
      if (c.check.bad_row_samples.size() < s.options.max_samples) c.check.bad_row_samples.push_back(std::move(b));
    }
    if (!part->links.empty()) c.continuity->NoteHead(part->head_seq, part->head_hash);
    c.window.Merge(part->chain_window);
  }
  for (size_t k = 0; k < plan->gaps.size(); ++k) {
    GapState& g = *s.gaps[plan->gaps[k].second];
    for (int64_t v : part->gap_values[k]) g.tracker.Add(v);
    g.check.non_integer += part->gap_bad[k];
    g.window.Merge(part->gap_windows[k]);
  }
  for (size_t k = 0; k < plan->fk_parent.size(); ++k) {
    auto& dst = s.fks[plan->fk_parent[k].first]->parent_hashes;
    dst.insert(dst.end(), part->parent_hashes[k].begin(), part->parent_hashes[k].end());
  }
  for (size_t k = 0; k < plan->fk_child.size(); ++k) {
    FkState& f = *s.fks[plan->fk_child[k].first];
    f.child_hashes.insert(f.child_hashes.end(), part->child_hashes[k].begin(), part->child_hashes[k].end());
    f.check.null_refs += part->child_nulls[k];
  }
}

namespace {

// Reads the child tables with orphans again and names sample rows whose
// reference is an orphan hash.
class OrphanSampler final : public RowObserver {
 public:
  OrphanSampler(std::vector<FkState*> fks, size_t max_samples) : fks_(std::move(fks)), max_(max_samples) {}
  Status BeginSource(const TableStreamReader&) override { return Status::Ok(); }
  Status BeginTable(const TableInfo& t, uint32_t index) override {
    auto plan = std::make_unique<Plan>();
    plan->table = &t;
    for (const auto& k : t.key_columns) {
      if (auto i = ColumnIndex(t, k)) plan->key.push_back(*i);
    }
    for (size_t i = 0; i < fks_.size(); ++i) {
      const ForeignKey& fk = fks_[i]->check.fk;
      if (!SameTable(t, fk.schema, fk.table)) continue;
      std::vector<size_t> cols;
      for (const auto& c : fk.columns) {
        if (auto k = ColumnIndex(t, c)) cols.push_back(*k);
      }
      if (cols.size() == fk.columns.size()) plan->refs.emplace_back(i, std::move(cols));
    }
    std::unique_lock lock(mu_);
    plans_[index] = std::move(plan);
    return Status::Ok();
  }
  struct Found final : Partial {
    std::vector<std::pair<size_t, std::string>> rows;
  };
  std::unique_ptr<Partial> Scan(const RowChunk& chunk) const override {
    const Plan* plan;
    {
      std::shared_lock lock(mu_);
      auto it = plans_.find(chunk.table_index);
      if (it == plans_.end() || it->second->refs.empty()) return nullptr;
      plan = it->second.get();
    }
    auto found = std::make_unique<Found>();
    std::vector<std::string_view> f;
    std::string buf;
    ForEachRow(chunk, [&](std::string_view row) {
      SplitCopyRow(row, f);
      if (f.size() != plan->table->columns.size()) return true;
      for (const auto& [i, cols] : plan->refs) {
        bool is_null;
        uint64_t h = KeyHash(f, cols, buf, &is_null);
        if (!is_null && fks_[i]->orphan_hashes.count(h)) {
          found->rows.emplace_back(i, DescribeRow(f, *plan->table, plan->key, cols));
        }
      }
      return true;
    });
    return found;
  }
  void Fold(uint32_t, std::unique_ptr<Partial> partial) override {
    for (auto& [i, text] : static_cast<Found*>(partial.get())->rows) collected_[i].push_back(std::move(text));
  }
  // Sorted, so that the samples do not depend on read order.
  void Store() {
    for (auto& [i, rows] : collected_) {
      std::sort(rows.begin(), rows.end());
      rows.resize(std::min(rows.size(), max_));
      fks_[i]->check.samples = rows;
    }
  }

 private:
  struct Plan {
    const TableInfo* table;
    std::vector<size_t> key;
    std::vector<std::pair<size_t, std::vector<size_t>>> refs;
  };
  std::vector<FkState*> fks_;
  size_t max_;
  mutable std::shared_mutex mu_;
  std::map<uint32_t, std::unique_ptr<Plan>> plans_;
  std::map<size_t, std::vector<std::string>> collected_;
};

}  // namespace

Result<SourceChecks> DrillObserver::Finish(const std::string& source, const DigestOptions& digest) {
  State& s = *state_;
  SourceChecks out;
  out.ran = true;
  out.fk_note = s.fk_note;
  for (auto& [index, acc] : s.accs) {
    TableTemporal t;
    t.schema = acc.schema;
    t.name = acc.name;
    t.rows = acc.rows;
    t.record_column = acc.record_column;
    for (size_t k = 0; k < acc.times.size(); ++k) {
      const TimeAcc& a = acc.times[k];
      TimeColumnStats c;
      c.column = acc.time_names[k];
      c.values = a.values;
      c.nulls = a.nulls;
      c.future = a.future;
      c.in_window = a.in_window;
      c.invalid = a.invalid;
      if (a.values > 0) {
        c.min_us = a.min;
        c.max_us = a.max;
      }
      c.future_samples = a.future_samples;
      t.columns.push_back(std::move(c));
    }
    out.temporal.push_back(std::move(t));
  }
  std::sort(out.temporal.begin(), out.temporal.end(), [](const TableTemporal& a, const TableTemporal& b) {
    return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
  });

  // A sequence's gaps are suspicious from --gap-threshold on, or inside the
  // recovery window as that sequence's own in-window values span it.
  auto gap_options = [&](const SeqWindow& window) {
    GapOptions go;
    go.suspicious_size = std::max<uint64_t>(1, s.options.gap_threshold);
    go.window = window.Range();
    go.max_ranges = s.options.max_samples;
    return go;
  };
  for (auto& c : s.chains) {
    if (c->continuity) {
      c->check.result = c->continuity->Finish();
      c->check.gaps = c->gaps.Finish(gap_options(c->window));
    }
    out.chains.push_back(c->check);
  }
  for (auto& g : s.gaps) {
    g->check.result = g->tracker.Finish(gap_options(g->window));
    out.gaps.push_back(g->check);
  }
  std::vector<FkState*> with_orphans;
  std::vector<std::string> child_tables;
  for (auto& f : s.fks) {
    OrphanCheck& c = f->check;
    for (bool parent : {false, true}) {
      const std::string& schema = parent ? c.fk.ref_schema : c.fk.schema;
      const std::string& table = parent ? c.fk.ref_table : c.fk.table;
      if (!c.not_checked.empty() || (parent ? f->parent_seen : f->child_seen)) continue;
      c.not_checked = (!digest.filter.empty() && !digest.filter.Selects(schema, table)
                           ? "table " + QualifiedTableName(schema, table) + " is not selected (-t/-T/-n/-N)"
                           : "the source has no table " + QualifiedTableName(schema, table));
    }
    if (!c.not_checked.empty()) continue;
    std::sort(f->parent_hashes.begin(), f->parent_hashes.end());
    f->parent_hashes.erase(std::unique(f->parent_hashes.begin(), f->parent_hashes.end()), f->parent_hashes.end());
    c.parent_keys = f->parent_hashes.size();
    c.child_rows = f->child_hashes.size() + c.null_refs;
    for (uint64_t h : f->child_hashes) {
      if (!std::binary_search(f->parent_hashes.begin(), f->parent_hashes.end(), h)) {
        ++c.orphans;
        if (f->orphan_hashes.size() < 100000) f->orphan_hashes.insert(h);
      }
    }
    std::vector<uint64_t>().swap(f->parent_hashes);
    std::vector<uint64_t>().swap(f->child_hashes);
    if (c.orphans > 0) {
      with_orphans.push_back(f.get());
      std::string name = QualifiedTableName(c.fk.schema, c.fk.table);
      if (std::find(child_tables.begin(), child_tables.end(), name) == child_tables.end()) child_tables.push_back(name);
    }
  }
  if (!with_orphans.empty() && !source.empty()) {
    OrphanSampler sampler(with_orphans, s.options.max_samples);
    DigestOptions d = digest;
    d.observer = &sampler;
    d.filter = TableFilter();
    auto opened = OpenSource(source, d, child_tables);
    if (!opened.ok()) return opened.status();
    if (opened->reader) {
      auto r = DigestTables(*opened->reader, d);
      if (!r.ok()) return r.status().WithContext("naming orphaned rows");
      sampler.Store();
    }
  }
  for (auto& f : s.fks) out.orphans.push_back(f->check);
  return out;
}

}  // namespace vouch
