#include "render/drill.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "render/digest.h"
#include "render/kit.h"

#ifndef VOUCH_VERSION
#define VOUCH_VERSION "unknown"
#endif

namespace vouch::cli {
namespace {

// "1.5" / "12" (one decimal, ".0" dropped).
std::string OneDecimal(double v) {
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

std::string Unit(double v, const char* one, const char* many) {
  std::string n = OneDecimal(v);
  return n + " " + (n == "1" ? one : many);
}

// "1 violation", "2,847 violations".
std::string Count(uint64_t n, const std::string& one, const std::string& many = "") {
  return GroupThousands(n) + " " + (n == 1 ? one : many.empty() ? one + "s" : many);
}

// "+3", "−1" (U+2212), "±0", grouped.
std::string SignedDelta(uint64_t from, uint64_t to) {
  if (to == from) return "±0";
  return to > from ? "+" + GroupThousands(to - from) : "−" + GroupThousands(from - to);
}

std::string Range(int64_t a, int64_t b) { return a == b ? std::to_string(a) : fmt::format("{}..{}", a, b); }

std::string Ranges(const std::vector<std::pair<int64_t, int64_t>>& ranges, uint64_t total) {
  std::vector<std::string> parts;
  for (const auto& [a, b] : ranges) parts.push_back(Range(a, b));
  std::string s = fmt::format("{}", fmt::join(parts, ", "));
  if (total > ranges.size()) s += fmt::format(" and {} more", GroupThousands(total - ranges.size()));
  return s;
}

std::string SeqList(const std::vector<int64_t>& seqs, uint64_t total) {
  std::string s = fmt::format("{}", fmt::join(seqs, ", "));
  if (total > seqs.size()) s += ", …";
  return s;
}

// The side whose row checks the report shows: the restored copy, or the
// source when the restored side is a manifest (no rows).
const SourceChecks& Shown(const DrillReport& r) { return r.restored_checks.ran ? r.restored_checks : r.source_checks; }
// The other side, for comparison, when both ran.
const SourceChecks* Other(const DrillReport& r) {
  return r.restored_checks.ran && r.source_checks.ran ? &r.source_checks : nullptr;
}

// A binary search (the list is sorted by schema and name): the per-table
// sections ask once per table, and at 100,000 tables a scan each time was
// billions of comparisons.
const TableTemporal* FindTemporal(const SourceChecks& c, const std::string& schema, const std::string& name) {
  auto it = std::lower_bound(c.temporal.begin(), c.temporal.end(), std::tie(schema, name),
                             [](const TableTemporal& t, const auto& key) { return std::tie(t.schema, t.name) < key; });
  return it != c.temporal.end() && it->schema == schema && it->name == name ? &*it : nullptr;
}

const ChainCheck* FindChain(const SourceChecks* c, const ChainSpec& spec) {
  if (c == nullptr) return nullptr;
  for (const auto& x : c->chains) {
    if (x.spec.table == spec.table) return &x;
  }
  return nullptr;
}

const GapCheck* FindGap(const SourceChecks* c, const GapCheck& g) {
  if (c == nullptr) return nullptr;
  for (const auto& x : c->gaps) {
    if (x.schema == g.schema && x.table == g.table && x.column == g.column) return &x;
  }
  return nullptr;
}

const OrphanCheck* FindOrphan(const SourceChecks* c, const OrphanCheck& o) {
  if (c == nullptr) return nullptr;
  for (const auto& x : c->orphans) {
    if (x.Name() == o.Name()) return &x;
  }
  return nullptr;
}

std::string TsOrDash(const TimeColumnStats* c, bool latest) {
  if (c == nullptr || c->values == 0) return "-";
  return FormatTimestamp(latest ? c->max_us : c->min_us);
}

// The tables a per-table section lists: every one, or as `list` says only
// those that do not match.
std::vector<const TableComparison*> ShownTables(const DrillReport& r, TableList list) {
  const bool every = ListsEveryTable(list, r.compare.tables.size());
  std::vector<const TableComparison*> shown;
  for (const auto& t : r.compare.tables) {
    if (every || t.status != TableStatus::kMatch) shown.push_back(&t);
  }
  return shown;
}

// "4,009 in the source, 4,003 restored".
std::string RowTotals(const DrillReport& r) {
  uint64_t expected = 0, actual = 0;
  for (const auto& t : r.compare.tables) {
    expected += t.expected_rows;
    actual += t.actual_rows;
  }
  return fmt::format("{} in the source, {} restored", GroupThousands(expected), GroupThousands(actual));
}

size_t FailedChecks(const DrillReport& r) {
  return static_cast<size_t>(
      std::count_if(r.checks.begin(), r.checks.end(), [](const DrillCheck& c) { return !c.passed; }));
}

// Totals of the temporal checks as the engine counts them: future values in
// any timestamp column, NULLs in each table's record column.
struct TemporalTotals {
  uint64_t future = 0, nulls = 0, invalid = 0;
  std::vector<std::string> future_where, null_where, invalid_where;  // "public.t.col: N"
};

TemporalTotals Totals(const SourceChecks& c) {
  TemporalTotals t;
  for (const auto& tab : c.temporal) {
    for (const auto& col : tab.columns) {
      std::string where = tab.QualifiedName() + "." + col.column;
      if (col.future) {
        t.future += col.future;
        t.future_where.push_back(fmt::format("{}: {}", where, GroupThousands(col.future)));
      }
      if (col.column == tab.record_column && col.nulls) {
        t.nulls += col.nulls;
        t.null_where.push_back(fmt::format("{}: {}", where, GroupThousands(col.nulls)));
      }
      if (col.invalid) {
        t.invalid += col.invalid;
        t.invalid_where.push_back(fmt::format("{}: {}", where, GroupThousands(col.invalid)));
      }
    }
  }
  return t;
}

bool TargetMet(const std::optional<int64_t>& v, const std::optional<int64_t>& target) {
  return v && target && *v <= *target;
}

std::string SourceKind(const DigestReport& d) {
  const std::string what = SourceDescription(d.source);
  return what.empty() ? std::string() : " (" + what + ")";
}

std::string MaxGapText(uint64_t max_gap) {
  if (max_gap == 0) return "0 (fewer than two values)";
  if (max_gap == 1) return "1 (Normal sequential)";
  return fmt::format("{} ({} consecutive values missing)", GroupThousands(max_gap), GroupThousands(max_gap - 1));
}

// ---------------------------------------------------------------------------
// Check details: one line per DrillCheck, worded from its typed result.

// "; 2 missing: id=1 id=2 ..." (nothing when n is 0).
void KeysDetail(std::string& out, const char* what, uint64_t n, const std::vector<std::string>& keys) {
  if (n == 0) return;
  out += fmt::format("; {} {}:", GroupThousands(n), what);
  for (const auto& k : keys) out += " " + k;
  if (n > keys.size()) out += " ...";
}

std::string ContentDetail(const TableComparison& t) {
  switch (t.status) {
    case TableStatus::kMissing:
      return fmt::format("missing from the restored copy ({})", Count(t.expected_rows, "row"));
    case TableStatus::kExtra: return fmt::format("not in the source ({})", Count(t.actual_rows, "row"));
    case TableStatus::kMatch:
    case TableStatus::kMismatch: break;
  }
  std::string out =
      fmt::format("{} rows expected, {} restored", GroupThousands(t.expected_rows), GroupThousands(t.actual_rows));
  if (t.status == TableStatus::kMatch) return out + fmt::format("; content hash {} matches", t.actual_hash.Hex());
  if (t.columns_differ) out += "; the column lists differ";
  if (t.expected_rows != t.actual_rows) out += " (count " + SignedDelta(t.expected_rows, t.actual_rows) + ")";
  if (t.rows_located) {
    KeysDetail(out, "missing", t.missing, t.missing_keys);
    KeysDetail(out, "extra", t.extra, t.extra_keys);
    KeysDetail(out, "changed", t.changed, t.changed_keys);
  } else if (!t.not_located_reason.empty()) {
    out += "; rows not named: " + t.not_located_reason;
  }
  return out;
}

std::string ChainDetail(const ChainCheck& c) {
  if (!c.found) return "the restored copy has no table " + c.spec.table;
  if (!c.error.empty()) return c.error;
  const auto& x = c.result;
  if (c.SpecLooksWrong()) {
    return fmt::format(
        "every one of the {} fails: the chain spec is probably wrong (separator, field order, timestamp "
        "rendering, algorithm or encoding), not a tampered table; spec: {}",
        Count(x.entries, "link"), c.description);
  }
  std::string out = fmt::format("{}, head {}", Count(x.entries, "entry", "entries"), x.head_hash);
  if (x.link_failures) {
    out += fmt::format("; {} at seq {}", Count(x.link_failures, "link fails", "links fail"),
                       SeqList(x.first_link_failures, x.link_failures));
  }
  if (x.continuity_breaks) out += "; chain breaks at seq " + SeqList(x.first_breaks, x.continuity_breaks);
  if (x.duplicates) out += "; duplicate seq " + SeqList(x.first_duplicates, x.duplicates);
  if (c.bad_rows) out += "; " + Count(c.bad_rows, "unreadable row");
  if (c.gaps.gaps) {
    out += fmt::format("; {} ({} missing seq):", Count(c.gaps.gaps, "gap"), GroupThousands(c.gaps.missing));
    for (const auto& [a, b] : c.gaps.ranges) out += fmt::format(" {} (size {})", Range(a, b), b - a + 1);
  }
  return out;
}

std::string SourceChainDetail(const ChainCheck& c) {
  return fmt::format("the source's own chain does not verify ({}, {}): it was broken before the backup",
                     Count(c.result.link_failures, "link failure"), Count(c.result.continuity_breaks, "break"));
}

std::string GapDetail(const GapCheck& g) {
  if (!g.found) return "the restored copy has no table " + QualifiedTableName(g.schema, g.table);
  const auto& x = g.result;
  std::string out = fmt::format("{} {}..{}, {}, max gap size {}, {} suspicious", Count(x.distinct, "value"), x.min,
                                x.max, Count(x.gaps, "gap"), GroupThousands(x.max_gap), GroupThousands(x.suspicious));
  for (const auto& [a, b] : x.ranges) out += "; missing " + Range(a, b);
  if (g.non_integer) out += "; " + Count(g.non_integer, "NULL or non-integer value");
  return out;
}

std::string OrphanDetail(const OrphanCheck& f) {
  if (!f.not_checked.empty()) return "not checked: " + f.not_checked;
  if (!f.not_checkable.empty()) return "not checkable: " + f.not_checkable;
  std::string out = fmt::format("{} orphaned of {} ({}, not orphans)", GroupThousands(f.orphans),
                                Count(f.child_rows, "row"), Count(f.null_refs, "NULL reference"));
  if (!f.samples.empty()) out += fmt::format(": {}", fmt::join(f.samples, "; "));
  return out;
}

std::string FutureDetail(const DrillReport& r) {
  std::vector<std::string> where;
  uint64_t total = 0;
  for (const auto& t : r.restored_checks.temporal) {
    for (const auto& c : t.columns) {
      if (!c.future) continue;
      total += c.future;
      std::string w = fmt::format("{}.{}: {}", t.QualifiedName(), c.column, GroupThousands(c.future));
      if (!c.future_samples.empty()) w += fmt::format(" ({})", fmt::join(c.future_samples, "; "));
      where.push_back(std::move(w));
    }
  }
  if (total == 0) return fmt::format("none later than {} + skew", FormatTimestamp(r.now_us));
  return fmt::format("{}: {}", Count(total, "violation"), fmt::join(where, "; "));
}

std::string NullRecordDetail(const DrillReport& r) {
  TemporalTotals t = Totals(r.restored_checks);
  if (t.nulls == 0) return "none in any table's record-time column";
  return fmt::format("{}: {}", Count(t.nulls, "violation"), fmt::join(t.null_where, "; "));
}

// The table behind the RPO: "public.tasks (created_at): latest source record
// T1, restored T2".
std::string RestoredLatest(const TableLag& l) {
  return l.restored_latest_us ? FormatTimestamp(*l.restored_latest_us) : std::string("none");
}

std::string LagFacts(const TableLag& l) {
  return fmt::format("latest source record {}, restored {}", FormatTimestamp(l.source_latest_us), RestoredLatest(l));
}

std::string WorstLag(const DrillReport& r) {
  if (r.table_lags.empty()) return "no table's lag measured";
  const TableLag* w = r.WorstLoss();
  if (w == nullptr) {
    return fmt::format("no table lost its latest records ({} with record times)", Count(r.table_lags.size(), "table"));
  }
  return fmt::format("{} ({}): {}", w->QualifiedName(), w->column, LagFacts(*w));
}

std::string ObjectiveDetail(const DrillReport& r, DrillSubject subject) {
  const bool rpo = subject == DrillSubject::kRpo;
  const std::optional<int64_t>& v = rpo ? r.rpo_us : r.rto_us;
  const std::optional<int64_t>& target = rpo ? r.rpo_target_us : r.rto_target_us;
  if (!v)
    return rpo ? "not measured: no record timestamps on both sides"
               : "not measured: give --drill-start and --drill-end";
  std::string out =
      fmt::format("achieved {} (target ≤ {})", FormatDurationUs(*v), FormatDurationUs(target.value_or(0)));
  if (rpo) out += ": " + WorstLag(r);
  return out;
}

std::string SequenceDetail(const SequenceComparison& s) {
  if (s.missing) return "missing from the restored copy";
  if (s.extra) return "not in the source";
  std::string out;
  if (s.definition_differs) out = fmt::format("definition {} → {}", s.expected_definition, s.actual_definition);
  if (s.state == SequenceState::kBehind) {
    out += fmt::format("{}behind the source by {}: last_value {}{} in the source, {}{} restored", out.empty() ? "" : "; ",
                       GroupThousands(s.distance), s.expected_last, s.expected_called ? "" : " (not called)",
                       s.actual_last, s.actual_called ? "" : " (not called)");
  } else if (s.state == SequenceState::kAhead) {
    out += fmt::format("{}ahead of the source by {} (a note)", out.empty() ? "" : "; ", GroupThousands(s.distance));
  }
  return out;
}

std::string SequenceColumnDetail(const SequenceColumnCheck& k) {
  const std::string side = k.restored ? "restored copy" : "source";
  if (k.exhausted) {
    return fmt::format("in the {}: the sequence has no next value (at its bound, no CYCLE); {} holds up to {}", side,
                       k.column.column.Qualified(), k.column.max);
  }
  return fmt::format("in the {}: nextval() gives {}, but {} already holds {}: the next insert collides", side, k.next,
                     k.column.column.Qualified(), k.column.max);
}

std::string LargeObjectsDetail(const LargeObjectsComparison& c) {
  std::string out = fmt::format("{} in the source, {} restored", GroupThousands(c.expected_count),
                                GroupThousands(c.actual_count));
  auto list = [&](const char* what, uint64_t n, const std::vector<std::string>& oids) {
    if (n == 0) return;
    std::string s;
    for (const auto& o : oids) s += (s.empty() ? "" : ", ") + o;
    if (n > oids.size()) s += fmt::format(", … {} more", GroupThousands(n - oids.size()));
    out += fmt::format("; {} {}: {}", GroupThousands(n), what, s);
  };
  list("missing", c.missing, c.missing_oids);
  list("extra", c.extra, c.extra_oids);
  list("changed", c.changed, c.changed_oids);
  return out;
}
// The differing objects of one kind, named: "missing INDEX public.t_idx;
// changed VIEW public.v" (at most 10 of each, then a count).
std::string SchemaKindDetail(const DrillReport& r, const SchemaKindComparison& k) {
  const std::string presence = k.by_presence ? " (by presence: a dump does not print this kind as a database does)" : "";
  if (k.missing + k.extra + k.changed == 0) {
    return fmt::format("{} compared, all match{}", Count(k.compared, "object"), presence);
  }
  std::string out;
  for (SchemaDiffKind what : {SchemaDiffKind::kMissing, SchemaDiffKind::kExtra, SchemaDiffKind::kChanged}) {
    std::vector<std::string> names;
    size_t total = 0;
    for (const auto& d : r.schema.differences) {
      if (d.kind != what || std::string_view(d.name).substr(0, d.name.find(' ')) != k.kind) continue;
      if (++total <= 10) names.push_back(d.name);
    }
    if (total == 0) continue;
    if (!out.empty()) out += "; ";
    out += fmt::format("{} {}", SchemaDiffKindName(what), fmt::join(names, ", "));
    if (total > names.size()) out += fmt::format(" … and {} more", total - names.size());
  }
  const char* where = "";
  if (k.missing > 0 && k.extra == 0 && k.changed == 0) where = " (in the source, not in the restored copy)";
  return out + where + presence;
}

std::string SchemaHashDetail(const DrillReport& r) {
  return fmt::format("source {}, restored {}{}", r.source_schema_hash.empty() ? "none" : r.source_schema_hash,
                     r.restored_schema_hash.empty() ? "none" : r.restored_schema_hash,
                     r.schema_hash_with_cluster ? " (with cluster-wide objects)" : " (database objects only)");
}

// The schema hash line of a side: the hash, or why there is none.
std::string SchemaHashText(const std::string& hash) { return hash.empty() ? "schema not in this source" : hash; }

std::string FinalHashDetail(const DrillReport& r) {
  if (!r.compare.expected.Complete() || !r.compare.actual.Complete())
    return "not every table could be hashed, so there is no final hash";
  return fmt::format("source {}, restored {}", r.source_final_hash, r.restored_final_hash);
}

// ---------------------------------------------------------------------------
// Text.

void TextRowCounts(const DrillReport& r, TableList list, std::string& out) {
  const SourceChecks& side = Shown(r);
  const std::vector<const TableComparison*> shown = ShownTables(r, list);
  size_t wname = 5, wexp = 13, wact = 11;
  for (const auto* t : shown) {
    wname = std::max(wname, t->QualifiedName().size());
    wexp = std::max(wexp, GroupThousands(t->expected_rows).size());
    wact = std::max(wact, GroupThousands(t->actual_rows).size());
  }
  out += "\nCritical Table Row Counts\n";
  out += fmt::format("| {:<{}} | {:>{}} | {:>{}} | {:<19} | {:<19} | Status\n", "Table", wname, "Expected Rows", wexp,
                     "Actual Rows", wact, "Earliest Record", "Latest Record");
  out += fmt::format("|{:-<{}}|{:->{}}|{:->{}}|{:-<21}|{:-<21}|--------\n", "", wname + 2, "", wexp + 2, "", wact + 2,
                     "", "");
  for (const auto* shown_table : shown) {
    const TableComparison& t = *shown_table;
    const TableTemporal* tt = FindTemporal(side, t.schema, t.name);
    const TimeColumnStats* rec = tt ? tt->record() : nullptr;
    std::string exp = t.status == TableStatus::kExtra ? "-" : GroupThousands(t.expected_rows);
    std::string act = t.status == TableStatus::kMissing ? "-" : GroupThousands(t.actual_rows);
    std::string status;
    if (t.status == TableStatus::kMissing)
      status = "❌ MISSING";
    else if (t.status == TableStatus::kExtra)
      status = "❌ EXTRA";
    else if (t.expected_rows == t.actual_rows)
      status = "✅";
    else
      status = "❌ count " + SignedDelta(t.expected_rows, t.actual_rows);
    out += fmt::format("| {:<{}} | {:>{}} | {:>{}} | {:<19} | {:<19} | {}\n", t.QualifiedName(), wname, exp, wexp, act,
                       wact, TsOrDash(rec, false), TsOrDash(rec, true), status);
  }
  if (r.compare.tables.empty()) out += "(no tables)\n";
  if (shown.size() < r.compare.tables.size()) {
    out += LeftOutLine(r.compare.tables.size() - shown.size(), "matching table") + "\n";
  }
  if (side.ran) {
    out += fmt::format("Records: each table's record-time column ({}; first timestamp column unless --time-column)\n",
                       &side == &r.restored_checks ? "restored copy" : "source");
  }
}

void TextKeyList(std::string& out, const char* what, const std::vector<std::string>& keys, uint64_t total) {
  for (const auto& k : keys) out += fmt::format("    {:<8} {}\n", what, k);
  if (total > keys.size()) out += fmt::format("    ... and {} more {}\n", GroupThousands(total - keys.size()), what);
}

void TextChecksums(const DrillReport& r, TableList list, std::string& out) {
  const std::vector<const TableComparison*> shown = ShownTables(r, list);
  size_t wname = 5;
  for (const auto* t : shown) wname = std::max(wname, t->QualifiedName().size());
  out += "\nData Integrity Checksums\n";
  out += fmt::format("| {:<{}} | {:<32} | Status\n", "Table", wname, "Content Hash");
  out += fmt::format("|{:-<{}}|{:-<34}|------------\n", "", wname + 2, "");
  for (const auto* t : shown) {
    std::string hash = (t->status == TableStatus::kMissing ? t->expected_hash : t->actual_hash).Hex();
    out += fmt::format("| {:<{}} | {:<32} | {} {}\n", t->QualifiedName(), wname, hash.empty() ? "-" : hash,
                       Mark(t->status == TableStatus::kMatch), TableStatusName(t->status));
  }
  if (shown.size() < r.compare.tables.size()) {
    out += LeftOutLine(r.compare.tables.size() - shown.size(), "matching table") + "\n";
  }
  for (const auto& t : r.compare.tables) {
    switch (t.status) {
      case TableStatus::kMatch: continue;
      case TableStatus::kMissing:
        out += fmt::format("\n{}: ❌ MISSING: {} in the source, no such table in the restored copy\n", t.QualifiedName(),
                           Count(t.expected_rows, "row"));
        continue;
      case TableStatus::kExtra:
        out += fmt::format("\n{}: ❌ EXTRA: {} in the restored copy, no such table in the source\n", t.QualifiedName(),
                           Count(t.actual_rows, "row"));
        continue;
      case TableStatus::kMismatch: break;
    }
    out += fmt::format("\n{}: ❌ MISMATCH: {} in the source, {} restored", t.QualifiedName(),
                       Count(t.expected_rows, "row"), GroupThousands(t.actual_rows));
    if (t.expected_rows != t.actual_rows) out += " (count " + SignedDelta(t.expected_rows, t.actual_rows) + ")";
    out += fmt::format("\n  content hash source {}, restored {}\n", t.expected_hash.Hex(), t.actual_hash.Hex());
    if (t.columns_differ) {
      out += fmt::format("  columns differ: ({}) in the source, ({}) restored\n", fmt::join(t.expected_columns, ", "),
                         fmt::join(t.actual_columns, ", "));
      continue;
    }
    if (!t.rows_located) {
      out += fmt::format("  {} of the bucket sums differ; rows not named: {}\n", t.differing_buckets,
                         t.not_located_reason.empty() ? "unknown reason" : t.not_located_reason);
      continue;
    }
    out += fmt::format("  {} missing, {} extra, {} changed ({})\n", GroupThousands(t.missing), GroupThousands(t.extra),
                       GroupThousands(t.changed),
                       t.key_columns.empty() ? std::string("no key: whole rows shown")
                                             : fmt::format("key {}", fmt::join(t.key_columns, ", ")));
    TextKeyList(out, "missing", t.missing_keys, t.missing);
    TextKeyList(out, "extra", t.extra_keys, t.extra);
    TextKeyList(out, "changed", t.changed_keys, t.changed);
  }
}

void TextLine(std::string& out, bool ok, const char* label, const std::string& value) {
  out += fmt::format("  {} {:<19} {}\n", Mark(ok), std::string(label) + ":", value);
}

// A line without a verdict, aligned with TextLine's (the marks are two columns wide).
void TextInfo(std::string& out, const std::string& label, const std::string& value) {
  out += fmt::format("     {:<19} {}\n", label + ":", value);
}

void TextChain(const ChainCheck& c, const ChainCheck* src, std::string& out) {
  out += fmt::format("\n{}\n", c.description.empty() ? c.spec.table : c.description);
  if (!c.found) {
    out += fmt::format("  ❌ table {} not found\n", c.spec.table);
    return;
  }
  if (!c.error.empty()) {
    out += fmt::format("  ❌ the chain spec does not fit the table: {}\n", c.error);
    return;
  }
  const auto& x = c.result;
  const auto& g = c.gaps;
  bool same_entries = src == nullptr || !src->found || src->result.entries == x.entries;
  std::string entries = GroupThousands(x.entries);
  if (x.entries > 0) entries += fmt::format(" (seq {} … {})", x.min_seq, x.max_seq);
  if (!same_entries) entries += fmt::format("; the source has {}", GroupThousands(src->result.entries));
  TextLine(out, x.entries > 0 && same_entries, "Total Entries", x.entries == 0 ? "0 (the table is empty)" : entries);
  bool same_head = src == nullptr || !src->found || src->result.head_hash == x.head_hash;
  std::string head = x.head_hash.empty() ? std::string("(none)") : x.head_hash + fmt::format(" (seq {})", x.max_seq);
  if (src != nullptr && src->found) {
    head += same_head
                ? ", same as the source"
                : fmt::format("; the source's head is {} (seq {})",
                              src->result.head_hash.empty() ? "(none)" : src->result.head_hash, src->result.max_seq);
  }
  TextLine(out, !x.head_hash.empty() && same_head, "Chain Hash (head)", head);
  if (c.SpecLooksWrong()) {
    TextLine(out, false, "Broken Links",
             fmt::format("every one of the {} links fails to recompute: the chain spec is probably wrong (separator, "
                         "field order, timestamp rendering, algorithm or encoding), not evidence of tampering; "
                         "check the spec (--chain, --chain-config) against how the application computes the hash",
                         GroupThousands(x.entries)));
  } else {
    std::vector<std::string> parts;
    if (x.link_failures) {
      parts.push_back(fmt::format("{} whose hash does not recompute (seq {})", Count(x.link_failures, "link"),
                                  SeqList(x.first_link_failures, x.link_failures)));
    }
    if (x.continuity_breaks) {
      parts.push_back(fmt::format("{} where prev_hash is not the predecessor's hash (seq {})",
                                  Count(x.continuity_breaks, "break"), SeqList(x.first_breaks, x.continuity_breaks)));
    }
    TextLine(out, parts.empty(), "Broken Links", parts.empty() ? "0" : fmt::format("{}", fmt::join(parts, "; ")));
  }
  if (x.duplicates) {
    TextLine(out, false, "Duplicate Seqs",
             fmt::format("{} (seq {})", GroupThousands(x.duplicates), SeqList(x.first_duplicates, x.duplicates)));
  }
  if (c.bad_rows) {
    std::string s = fmt::format("{} whose seq or hash could not be read", Count(c.bad_rows, "row"));
    if (!c.bad_row_samples.empty()) s += fmt::format(" ({})", fmt::join(c.bad_row_samples, "; "));
    TextLine(out, false, "Unreadable Rows", s);
  }
  TextLine(out, g.suspicious == 0, "Gaps Found",
           g.gaps == 0 ? std::string("0 (No breaks in audit sequence)")
                       : fmt::format("{} ({} seq missing: {})", GroupThousands(g.gaps), GroupThousands(g.missing),
                                     Ranges(g.ranges, g.gaps)));
  TextLine(out, g.suspicious == 0, "Suspicious Gaps", GroupThousands(g.suspicious));
  TextLine(out, g.max_gap <= 1 || g.suspicious == 0, "Max Gap Size", MaxGapText(g.max_gap));
  if (src != nullptr && src->found && !src->Passed() && !c.SpecLooksWrong() && !src->SpecLooksWrong()) {
    TextLine(out, false, "Source Chain",
             fmt::format("broken in the source too ({}, {}, {}): it was broken before the backup",
                         Count(src->result.link_failures, "link failure"),
                         Count(src->result.continuity_breaks, "break"), Count(src->gaps.gaps, "gap")));
  }
}

void TextGap(const GapCheck& g, const GapCheck* src, std::string& out) {
  std::string name = QualifiedTableName(g.schema, g.table) + "." + g.column;
  if (!g.found) {
    out += fmt::format("  ❌ {}: column not found\n", name);
    return;
  }
  const auto& x = g.result;
  std::string s = Count(x.distinct, "value");
  if (x.distinct > 0) s += fmt::format(" ({} … {})", x.min, x.max);
  if (x.duplicates) s += ", " + Count(x.duplicates, "duplicate");
  s += ", " + Count(x.gaps, "gap");
  if (x.gaps) s += fmt::format(" ({} missing: {})", Count(x.missing, "value"), Ranges(x.ranges, x.gaps));
  s += fmt::format(", {} suspicious, max gap size {}", GroupThousands(x.suspicious), GroupThousands(x.max_gap));
  if (g.non_integer) s += fmt::format(", {} NULL or non-integer", Count(g.non_integer, "value"));
  if (src != nullptr && src->found) s += "; source: " + Count(src->result.gaps, "gap");
  out += fmt::format("  {} {}: {}\n", Mark(g.Passed()), name, s);
}

void TextTemporal(const DrillReport& r, TableList list, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\nTemporal Consistency\n";
  if (!side.ran) {
    out += fmt::format("  not run: {}\n", side.not_run_reason.empty() ? "no rows were read" : side.not_run_reason);
  } else {
    TemporalTotals t = Totals(side);
    std::string future =
        fmt::format("{} (later than {} + skew)", Count(t.future, "violation"), FormatTimestamp(r.now_us));
    if (t.future) future += fmt::format(": {}", fmt::join(t.future_where, "; "));
    TextLine(out, t.future == 0, "Future Timestamps", future);
    for (const auto& tab : side.temporal) {
      for (const auto& col : tab.columns) {
        for (const auto& s : col.future_samples)
          out += fmt::format("      {}.{}: {}\n", tab.QualifiedName(), col.column, s);
      }
    }
    std::string nulls = Count(t.nulls, "violation");
    if (t.nulls)
      nulls += fmt::format(": {}", fmt::join(t.null_where, "; "));
    else
      nulls += " (in every table's record-time column)";
    TextLine(out, t.nulls == 0, "NULL Timestamps", nulls);
    if (t.invalid) {
      out += fmt::format("  ⚠ {}: {}\n", Count(t.invalid, "unparseable timestamp value"),
                         fmt::join(t.invalid_where, "; "));
    }
    if (r.recovery_window) {
      out += fmt::format("     Recovery Window Records ({} … {}):\n", FormatTimestamp(r.recovery_window->first),
                         FormatTimestamp(r.recovery_window->second));
      const SourceChecks* other = Other(r);
      const bool every = ListsEveryTable(list, r.compare.tables.size());
      size_t listed = 0, left_out = 0;
      for (const auto& tab : side.temporal) {
        const TimeColumnStats* rec = tab.record();
        if (rec == nullptr) continue;
        if (!every) {
          ++left_out;
          continue;
        }
        std::string line = fmt::format("       {}: {}", tab.QualifiedName(), Count(rec->in_window, "record"));
        if (other != nullptr) {
          const TableTemporal* o = FindTemporal(*other, tab.schema, tab.name);
          const TimeColumnStats* orec = o ? o->record() : nullptr;
          if (orec != nullptr) line += fmt::format(" (source {})", GroupThousands(orec->in_window));
        }
        out += line + "\n";
        ++listed;
      }
      if (left_out > 0) {
        out += "       " + LeftOutLine(left_out, "table") + "\n";
      } else if (listed == 0) {
        out += "       (no table has a record-time column)\n";
      }
    }
  }
  TextInfo(out, "Latest Record",
           fmt::format("source {}, restored {}",
                       r.source_latest_us ? FormatTimestamp(*r.source_latest_us) : std::string("-"),
                       r.restored_latest_us ? FormatTimestamp(*r.restored_latest_us) : std::string("-")));
  auto objective = [&](const char* name, const std::optional<int64_t>& v, const std::optional<int64_t>& target,
                       const char* how) {
    if (!v) {
      if (target) {
        TextLine(out, false, name, fmt::format("not measured ({}); target ≤ {} FAIL", how, FormatDurationUs(*target)));
      } else {
        TextInfo(out, name, fmt::format("not measured ({})", how));
      }
    } else if (target) {
      bool ok = *v <= *target;
      TextLine(
          out, ok, name,
          fmt::format("{} (target ≤ {}) {}", FormatDurationUs(*v), FormatDurationUs(*target), ok ? "PASS" : "FAIL"));
    } else {
      TextInfo(out, name, fmt::format("{} (no target)", FormatDurationUs(*v)));
    }
  };
  objective("RPO", r.rpo_us, r.rpo_target_us, "no record timestamps on both sides");
  if (r.WorstLoss() != nullptr) TextInfo(out, "RPO Table", WorstLag(r));
  objective("RTO", r.rto_us, r.rto_target_us, "give --drill-start");
}

void TextOrphans(const DrillReport& r, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\nReferential Integrity\n";
  if (!side.ran) {
    out += fmt::format("  not run: {}\n", side.not_run_reason.empty() ? "no rows were read" : side.not_run_reason);
    return;
  }
  if (side.orphans.empty()) out += "  no foreign keys to check (the source declares none; add --fk)\n";
  for (const auto& o : side.orphans) {
    std::string head = fmt::format("Orphaned {} → {}", QualifiedTableName(o.fk.schema, o.fk.table),
                                   QualifiedTableName(o.fk.ref_schema, o.fk.ref_table));
    if (!o.not_checked.empty()) {
      out += fmt::format("  ❌ {}: not checked: {}\n", head, o.not_checked);
      continue;
    }
    if (!o.not_checkable.empty()) {
      out += fmt::format("  ℹ️ {}: not checkable: {}\n", head, o.not_checkable);
      continue;
    }
    out += fmt::format("  {} {}: {} ({}{}; {}, {}, {})\n", Mark(o.Passed()), head, Count(o.orphans, "violation"),
                       o.Name(), o.declared ? ", --fk" : "", Count(o.child_rows, "row"),
                       Count(o.null_refs, "NULL reference"), Count(o.parent_keys, "parent key"));
    for (const auto& s : o.samples) out += fmt::format("      {}\n", s);
    if (o.orphans > o.samples.size() && !o.samples.empty()) {
      out += fmt::format("      ... and {} more\n", GroupThousands(o.orphans - o.samples.size()));
    }
    const OrphanCheck* src = FindOrphan(Other(r), o);
    if (src != nullptr && src->Checked() && src->orphans > 0) {
      out += fmt::format("      (the source has {} orphans here too)\n", GroupThousands(src->orphans));
    }
  }
  if (!side.fk_note.empty()) out += fmt::format("  Note: {}\n", side.fk_note);
}

// After "not compared: --rows-only": the large objects left out.
std::string LeftOutText(const DrillReport& r) {
  if (!r.rows_only) return "";
  const auto& e = r.compare.expected.large_objects_left_out;
  const auto& a = r.compare.actual.large_objects_left_out;
  if (!e || !a) return "";
  if (*e == 0 && *a == 0) return " (neither side has any)";
  return " (" + LargeObjectsLeftOut(r.compare, "source", "restored copy") + ", left out of FINAL_VALIDATION_HASH)";
}

// Sequences (those that fail or are ahead; a count of the rest) and large
// objects.
void TextSequences(const DrillReport& r, std::string& out) {
  const CompareReport& c = r.compare;
  if (!c.sequences.empty() || !c.sequences_not_compared.empty()) {
    out += "\nSequences\n";
    if (!c.sequences_compared) out += fmt::format("  not compared: {}\n", c.sequences_not_compared);
    size_t fine = 0;
    for (const auto& s : c.sequences) {
      if (s.Failed() || s.state == SequenceState::kAhead) {
        out += fmt::format("  {} {}: {}\n", s.Failed() ? "❌" : "ℹ️", s.QualifiedName(), SequenceDetail(s));
      } else {
        ++fine;
      }
    }
    if (c.sequences_compared) out += fmt::format("  ✅ {} the same as the source\n", Count(fine, "sequence"));
    for (const auto& k : r.sequence_columns) {
      if (!k.Passed()) {
        out += fmt::format("  ❌ {} behind {}: {}\n", QualifiedTableName(k.column.sequence.schema, k.column.sequence.name),
                           k.column.column.Qualified(), SequenceColumnDetail(k));
      }
    }
  }
  const LargeObjectsComparison& lo = c.large_objects;
  if (lo.compared && (lo.expected_count > 0 || lo.actual_count > 0)) {
    out += "\nLarge Objects\n";
    out += fmt::format("  {} {}\n", Mark(lo.Passed()), LargeObjectsDetail(lo));
  } else if (!lo.compared && !lo.not_compared.empty()) {
    out += fmt::format("\nLarge Objects\n  not compared: {}{}\n", lo.not_compared, LeftOutText(r));
  }
}

}  // namespace

std::string FormatDurationUs(int64_t us) {
  if (us < 0) {
    return "−" +
           FormatDurationUs(us == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -us);
  }
  double s = static_cast<double>(us) / 1e6;
  if (us == 0) return "0 s";
  if (us < 1000) return fmt::format("{} µs", us);
  if (us < 1'000'000) return OneDecimal(static_cast<double>(us) / 1e3) + " ms";
  if (s < 60) return OneDecimal(s) + " s";
  if (s < 3600) return Unit(s / 60, "minute", "minutes");
  if (s < 48 * 3600) return Unit(s / 3600, "hour", "hours");
  return Unit(s / 86400, "day", "days");
}

// --amcheck: "12 B-tree indexes checked (bt_index_check with heapallindexed):
// none fails", or the failing ones with amcheck's message.
std::string IndexesDetail(const DrillReport& r) {
  if (!r.index_checks) return "not run";
  const IndexCheckResult& x = *r.index_checks;
  std::string out = fmt::format("{} checked (bt_index_check with heapallindexed)",
                                Count(x.checked, "B-tree index", "B-tree indexes"));
  if (x.failures.empty()) return out + ": none fails";
  out += fmt::format(": {} fail", x.failures.size());
  for (const auto& f : x.failures) out += fmt::format("; {} on {}: {}", f.index, f.table, f.error);
  return out;
}

std::string DrillCheckDetail(const DrillReport& r, const DrillCheck& c) {
  switch (c.subject) {
    case DrillSubject::kContent: return ContentDetail(r.compare.tables.at(c.index));
    case DrillSubject::kChain: return ChainDetail(r.restored_checks.chains.at(c.index));
    case DrillSubject::kSourceChain: return SourceChainDetail(r.source_checks.chains.at(c.index));
    case DrillSubject::kGaps: return GapDetail(r.restored_checks.gaps.at(c.index));
    case DrillSubject::kOrphans: return OrphanDetail(r.restored_checks.orphans.at(c.index));
    case DrillSubject::kFutureTimestamps: return FutureDetail(r);
    case DrillSubject::kNullRecordTimes: return NullRecordDetail(r);
    case DrillSubject::kRpo:
    case DrillSubject::kRto: return ObjectiveDetail(r, c.subject);
    case DrillSubject::kFinalHash: return FinalHashDetail(r);
    case DrillSubject::kSequence: return SequenceDetail(r.compare.sequences.at(c.index));
    case DrillSubject::kSequences: {
      size_t ahead = 0;
      for (const auto& s : r.compare.sequences) ahead += s.state == SequenceState::kAhead;
      return fmt::format("{}: none missing, extra, redefined or behind{}", Count(r.compare.sequences.size(), "sequence"),
                         ahead ? fmt::format(" ({} ahead of the source: a note)", ahead) : "");
    }
    case DrillSubject::kSequenceColumn: return SequenceColumnDetail(r.sequence_columns.at(c.index));
    case DrillSubject::kSequenceColumns:
      return fmt::format("{}: every sequence gives a value above its column's largest",
                         Count(r.sequence_columns.size(), "fed column"));
    case DrillSubject::kLargeObjects: return LargeObjectsDetail(r.compare.large_objects);
    case DrillSubject::kSchemaKind: return SchemaKindDetail(r, r.schema.kinds.at(c.index));
    case DrillSubject::kSchemaHash: return SchemaHashDetail(r);
    case DrillSubject::kIndexes: return IndexesDetail(r);
  }
  return {};
}

namespace {

// The notes that say what the schema comparison covered.
std::vector<std::string> SchemaNotes(const DrillReport& r) {
  std::vector<std::string> notes;
  const SchemaComparison& s = r.schema;
  if (!s.compared) {
    notes.push_back("Schema objects not compared: " + s.not_compared);
    return notes;
  }
  notes.push_back(s.exact ? "Compared by each object's full catalog definition (two databases)"
                          : "Compared by the text a dump and a database both print, where the kind has one");
  auto presence = s.PresenceKinds();
  if (!presence.empty()) {
    notes.push_back(fmt::format("Compared by presence only (a dump does not print them as the catalogs do): {}",
                                fmt::join(presence, ", ")));
  }
  if (!s.cluster_compared) notes.push_back("Not compared: " + s.cluster_not_compared);
  if (s.child_objects_not_in_dump > 0) {
    notes.push_back(fmt::format(
        "{} of a child table (partition or inheritance child) on one side only: pg_dump leaves out what a table "
        "inherits, so these are not differences against a dump",
        Count(s.child_objects_not_in_dump, "column, constraint or trigger", "columns, constraints or triggers")));
  }
  if (!s.column_order_differs.empty()) {
    constexpr size_t kNamed = 10;
    const size_t n = s.column_order_differs.size();
    std::vector<std::string> named(s.column_order_differs.begin(),
                                   s.column_order_differs.begin() + static_cast<std::ptrdiff_t>(std::min(n, kNamed)));
    notes.push_back(fmt::format(
        "{} columns in another order than the source's (columns compare by name: not a difference): {}{}",
        Count(n, "table lists its", "tables list their"), fmt::join(named, ", "),
        n > kNamed ? fmt::format(" and {} more", n - kNamed) : std::string()));
  }
  return notes;
}

void TextSchema(const DrillReport& r, std::string& out) {
  out += "\nSchema Objects\n";
  for (const auto& k : r.schema.kinds) {
    const bool ok = k.missing + k.extra + k.changed == 0;
    out += fmt::format("  {} {}: {}\n", ok ? "✅" : "❌", k.kind, SchemaKindDetail(r, k));
  }
  for (const auto& n : SchemaNotes(r)) out += "  Note: " + n + "\n";
}

}  // namespace

std::string DrillVerdict(const DrillReport& r) {
  size_t failed = FailedChecks(r);
  // A rows-only verdict says what it did not judge.
  const std::string scope = r.rows_only ? " (--rows-only: sequences, large objects and schema objects not compared)" : "";
  if (r.checks.empty()) return "❌ FAIL — no checks ran" + scope;
  if (failed == 0) return fmt::format("✅ PASS — all {} checks passed{}", r.checks.size(), scope);
  return fmt::format("❌ FAIL — {} of {} checks failed{}", failed, r.checks.size(), scope);
}

std::string DrillText(const DrillReport& r, TableList list) {
  std::string out = "vouch drill: post-restore validation\n";
  out += fmt::format("Source:    {}{}\n", r.source, SourceKind(r.compare.expected));
  out += fmt::format("Restored:  {}{}\n", r.restored, SourceKind(r.compare.actual));
  out += fmt::format("Validated: {} UTC\n", FormatTimestamp(r.now_us));
  out += fmt::format("Duration:  {}\n", FormatDurationUs(static_cast<int64_t>(r.seconds * 1e6)));
  for (const auto* side : {&r.source_checks, &r.restored_checks}) {
    if (!side->ran) {
      out += fmt::format("Row checks not run on the {}: {}\n", side == &r.source_checks ? "source" : "restored copy",
                         side->not_run_reason.empty() ? "no rows were read" : side->not_run_reason);
    }
  }


  // The summary leads: the verdict, the totals, the final hashes and every
  // check that failed.
  out += fmt::format("\nOverall Result: {}\n", DrillVerdict(r));
  out += TableStatusCounts(r.compare.tables) + "\n";
  out += "Rows: " + RowTotals(r) + "\n";
  bool same = !r.source_final_hash.empty() && r.source_final_hash == r.restored_final_hash;
  out += fmt::format("FINAL_VALIDATION_HASH source:   {}\n",
                     r.source_final_hash.empty() ? "not computed" : r.source_final_hash);
  out += fmt::format("FINAL_VALIDATION_HASH restored: {}  {}\n",
                     r.restored_final_hash.empty() ? "not computed" : r.restored_final_hash,
                     same ? "✅ MATCH" : "❌ MISMATCH");
  if (r.rows_only) {
    out += fmt::format("FINAL_VALIDATION_HASH covers the rows and audit chains only (--rows-only): {}\n",
                       RowsOnlyHashNote(r.compare, "source", "restored copy"));
    out += "SCHEMA_VALIDATION_HASH: not computed (--rows-only)\n";
  } else if (r.schema.compared || !r.source_schema_hash.empty() || !r.restored_schema_hash.empty()) {
    const bool schema_same = r.source_schema_hash == r.restored_schema_hash;
    out += fmt::format("SCHEMA_VALIDATION_HASH source:   {}\n", SchemaHashText(r.source_schema_hash));
    out += fmt::format("SCHEMA_VALIDATION_HASH restored: {}  {}\n", SchemaHashText(r.restored_schema_hash),
                       schema_same ? "✅ MATCH" : "❌ MISMATCH");
  }
  if (FailedChecks(r) > 0) out += "Failed checks:\n";
  for (const auto& c : r.checks) {
    if (c.passed) continue;
    out += fmt::format("  ❌ {} · {}: {}\n", c.section, c.name, DrillCheckDetail(r, c));
  }

  TextRowCounts(r, list, out);
  TextChecksums(r, list, out);

  const SourceChecks& side = Shown(r);
  if (!side.chains.empty()) {
    out += "\nAudit Chain Verification\n";
    for (const auto& c : side.chains) TextChain(c, FindChain(Other(r), c.spec), out);
  }
  if (!side.gaps.empty()) {
    out += "\nSequence Gaps\n";
    for (const auto& g : side.gaps) TextGap(g, FindGap(Other(r), g), out);
  }
  TextTemporal(r, list, out);
  TextOrphans(r, out);
  if (r.index_checks) {
    out += fmt::format("\nIndex Integrity\n  {} {}\n", Mark(r.index_checks->failures.empty()), IndexesDetail(r));
  }
  TextSequences(r, out);
  TextSchema(r, out);
  return out;
}

// ---------------------------------------------------------------------------
// Markdown.

namespace {

// Plain text outside code, also a table cell: Markdown's active characters
// escaped, '|' included (not '_', which GFM leaves alone inside words, as in
// table names); line breaks flattened.
std::string MdText(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\\' || ch == '*' || ch == '`' || ch == '<' || ch == '>' || ch == '[' || ch == ']' || ch == '|')
      out += '\\';
    if (ch == '\n' || ch == '\r') {
      out += ' ';
      continue;
    }
    out += ch;
  }
  return out;
}

// An inline code span holding `s` verbatim (fence longer than any backtick run in it).
std::string MdCode(const std::string& s) {
  size_t run = 0, longest = 0;
  for (char ch : s) {
    run = ch == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  std::string body;
  for (char ch : s) body += (ch == '\n' || ch == '\r') ? ' ' : ch;
  bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

// The tables that lost writes, worst first (at most 20; the JSON has all).
void MdLags(const DrillReport& r, std::string& out) {
  size_t lost = 0;
  for (const TableLag& l : r.table_lags) lost += l.lag_us > 0;
  if (lost < 2) return;
  out += fmt::format(
      "\n{} tables lost writes{}:\n\n| Table | Record time | Latest source record | Latest restored | Lag |\n"
      "|---|---|---|---|---|\n",
      lost, lost > 20 ? " (the 20 worst)" : "");
  for (size_t i = 0; i < std::min<size_t>(lost, 20); ++i) {
    const TableLag& l = r.table_lags[i];
    out += fmt::format("| {} | {} | {} | {} | {} |\n", MdCode(l.QualifiedName()), MdCode(l.column),
                       FormatTimestamp(l.source_latest_us), RestoredLatest(l), FormatDurationUs(l.lag_us));
  }
  out += "\n";
}

void MdObjectives(const DrillReport& r, std::string& out) {
  if (!r.rpo_us && !r.rto_us && !r.rpo_target_us && !r.rto_target_us) return;
  out += "\n## RTO/RPO Analysis\n";
  out += "\n### Recovery Point Objective (RPO)\n";
  out += r.rpo_target_us ? fmt::format("- **Target**: ≤ {} data loss acceptable\n", FormatDurationUs(*r.rpo_target_us))
                         : "- **Target**: none set\n";
  if (r.rpo_us) {
    out += fmt::format("- **Achieved**: {}{}\n", FormatDurationUs(*r.rpo_us),
                       r.rpo_target_us ? std::string(" ") + Mark(TargetMet(r.rpo_us, r.rpo_target_us)) : std::string());
    out +=
        "- **Measurement**: The largest loss of any table: its latest record in the source minus its latest "
        "record in the restored copy\n";
    if (const TableLag* w = r.WorstLoss()) {
      out +=
          fmt::format("- **Worst table**: {} ({}): {}\n", MdCode(w->QualifiedName()), MdCode(w->column), LagFacts(*w));
    }
    MdLags(r, out);
  } else {
    out += std::string("- **Achieved**: not measured (no record timestamps on both sides)") +
           (r.rpo_target_us ? " ❌" : "") + "\n";
  }
  out += "\n### Recovery Time Objective (RTO)\n";
  out += r.rto_target_us
             ? fmt::format("- **Target**: ≤ {} to full service restoration\n", FormatDurationUs(*r.rto_target_us))
             : "- **Target**: none set\n";
  if (r.rto_us) {
    out += fmt::format("- **Achieved**: {}{}\n", FormatDurationUs(*r.rto_us),
                       r.rto_target_us ? std::string(" ") + Mark(TargetMet(r.rto_us, r.rto_target_us)) : std::string());
    out += "- **Measurement**: From the drill start to the drill end (`--drill-start`, `--drill-end`)\n";
  } else {
    out += std::string("- **Achieved**: not measured (no `--drill-start`)") + (r.rto_target_us ? " ❌" : "") + "\n";
  }
}

void MdChain(const ChainCheck& c, const ChainCheck* src, std::string& out) {
  out += fmt::format("\n#### {}\n", MdText(c.spec.table));
  out += fmt::format("- **Spec**: {}\n", MdCode(c.description));
  if (!c.found) {
    out += "- **Result**: ❌ table not found\n";
    return;
  }
  if (!c.error.empty()) {
    out += fmt::format("- **Result**: ❌ the chain spec does not fit the table: {}\n", MdText(c.error));
    return;
  }
  const auto& x = c.result;
  const auto& g = c.gaps;
  out += fmt::format("- **Total Entries**: {}", GroupThousands(x.entries));
  if (x.entries > 0) out += fmt::format(" (seq {} … {})", x.min_seq, x.max_seq);
  if (src != nullptr && src->found && src->result.entries != x.entries) {
    out += fmt::format(" ❌ (source: {})", GroupThousands(src->result.entries));
  }
  out += "\n";
  out += fmt::format("- **Chain Hash**: {}", x.head_hash.empty() ? std::string("(none)") : MdCode(x.head_hash));
  if (src != nullptr && src->found) {
    out += src->result.head_hash == x.head_hash ? " ✅ (same as the source)"
                                                : fmt::format(" ❌ (source: {})", MdCode(src->result.head_hash));
  }
  out += "\n";
  if (c.SpecLooksWrong()) {
    out += fmt::format(
        "- **Broken Links**: ❌ every one of the {} links fails to recompute: the chain spec is probably "
        "wrong (separator, field order, timestamp rendering, algorithm or encoding), not evidence of "
        "tampering\n",
        GroupThousands(x.entries));
  } else {
    std::vector<std::string> parts;
    if (x.link_failures) {
      parts.push_back(fmt::format("{} not recomputing: seq {}", Count(x.link_failures, "hash", "hashes"),
                                  SeqList(x.first_link_failures, x.link_failures)));
    }
    if (x.continuity_breaks) {
      parts.push_back(fmt::format("{} in prev_hash: seq {}", Count(x.continuity_breaks, "break"),
                                  SeqList(x.first_breaks, x.continuity_breaks)));
    }
    out += fmt::format("- **Broken Links**: {} {}", GroupThousands(x.link_failures + x.continuity_breaks),
                       Mark(parts.empty()));
    if (!parts.empty()) out += fmt::format(" ({})", fmt::join(parts, "; "));
    out += "\n";
  }
  if (x.duplicates) {
    out += fmt::format("- **Duplicate Seqs**: {} ❌ (seq {})\n", GroupThousands(x.duplicates),
                       SeqList(x.first_duplicates, x.duplicates));
  }
  if (c.bad_rows) out += fmt::format("- **Unreadable Rows**: {} ❌\n", GroupThousands(c.bad_rows));
  out += g.gaps == 0 ? std::string("- **Gaps Found**: 0 (No breaks in audit sequence)\n")
                     : fmt::format("- **Gaps Found**: {} {} ({} seq missing: {})\n", GroupThousands(g.gaps),
                                   Mark(g.suspicious == 0), GroupThousands(g.missing), Ranges(g.ranges, g.gaps));
  out += fmt::format("- **Suspicious Gaps**: {}{}\n", GroupThousands(g.suspicious), g.suspicious ? " ❌" : "");
  out += fmt::format("- **Max Gap Size**: {}\n", MaxGapText(g.max_gap));
  out += fmt::format("- **Result**: {}\n", c.Passed() ? "✅ verified" : "❌ not verified");
}

// The executive summary: what was compared, when, and the verdict.
void MdSummary(const DrillReport& r, std::string& out) {
  out += "\n## Executive Summary\n";
  out += fmt::format("- **Source**: {}{}\n", MdCode(r.source), MdText(SourceKind(r.compare.expected)));
  out += fmt::format("- **Restored**: {}{}\n", MdCode(r.restored), MdText(SourceKind(r.compare.actual)));
  out += fmt::format("- **Validated At**: {} UTC\n", FormatTimestamp(r.now_us));
  out += fmt::format("- **Validation Duration**: {}\n", FormatDurationUs(static_cast<int64_t>(r.seconds * 1e6)));
  if (r.rto_us) {
    out += fmt::format("- **RTO Achievement**: {}{}\n", FormatDurationUs(*r.rto_us),
                       r.rto_target_us ? fmt::format(" {} (Target: ≤ {})", Mark(TargetMet(r.rto_us, r.rto_target_us)),
                                                     FormatDurationUs(*r.rto_target_us))
                                       : std::string());
  }
  if (r.rpo_us) {
    out += fmt::format("- **RPO Achievement**: {}{}\n", FormatDurationUs(*r.rpo_us),
                       r.rpo_target_us ? fmt::format(" {} (Target: ≤ {})", Mark(TargetMet(r.rpo_us, r.rpo_target_us)),
                                                     FormatDurationUs(*r.rpo_target_us))
                                       : std::string());
  }
  out += fmt::format("- **Overall Result**: {}\n", DrillVerdict(r));
  out += fmt::format("- **Tables**: {}\n", TableStatusCounts(r.compare.tables));
  out += fmt::format("- **Rows**: {}\n", RowTotals(r));
  bool same = !r.source_final_hash.empty() && r.source_final_hash == r.restored_final_hash;
  out += fmt::format("- **Final Validation Hash**: {} {}\n",
                     r.restored_final_hash.empty() ? std::string("not computed") : MdCode(r.restored_final_hash),
                     same ? "✅ MATCH" : "❌ MISMATCH");
  if (r.rows_only) {
    out += fmt::format("- **Final Validation Hash covers**: the rows and audit chains only (`--rows-only`): {}\n",
                       MdText(RowsOnlyHashNote(r.compare, "source", "restored copy")));
    out += "- **Schema Validation Hash**: not computed (`--rows-only`)\n";
  } else if (r.schema.compared || !r.source_schema_hash.empty() || !r.restored_schema_hash.empty()) {
    out += fmt::format("- **Schema Validation Hash**: {} {}\n",
                       r.restored_schema_hash.empty() ? MdText("schema not in this source")
                                                      : MdCode(r.restored_schema_hash),
                       r.source_schema_hash == r.restored_schema_hash ? "✅ MATCH" : "❌ MISMATCH");
  }
  if (FailedChecks(r) > 0) out += "- **Failed Checks**:\n";
  for (const auto& c : r.checks) {
    if (c.passed) continue;
    out += fmt::format("  - ❌ {} · {}: {}\n", MdText(c.section), MdText(c.name), MdText(DrillCheckDetail(r, c)));
  }
}

// The line after a Markdown list that left some tables out.
void MdLeftOut(uint64_t left_out, std::string_view what, std::string& out) {
  if (left_out > 0) out += "\n_" + MdText(LeftOutLine(left_out, what)) + "._\n";
}

// Row counts with each table's earliest and latest record.
void MdRowCounts(const DrillReport& r, TableList list, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\n## Database Restore Evidence\n";
  out += "\n### Critical Table Row Counts\n";
  out += "| Table Name | Row Count | Earliest Record | Latest Record |\n";
  out += "|------------|-----------|-----------------|---------------|\n";
  const std::vector<const TableComparison*> shown = ShownTables(r, list);
  for (const auto* shown_table : shown) {
    const TableComparison& t = *shown_table;
    const TableTemporal* tt = FindTemporal(side, t.schema, t.name);
    const TimeColumnStats* rec = tt ? tt->record() : nullptr;
    std::string rows;
    if (t.status == TableStatus::kMissing) {
      rows = fmt::format("❌ missing (source: {})", GroupThousands(t.expected_rows));
    } else if (t.status == TableStatus::kExtra) {
      rows = fmt::format("{} ❌ (not in the source)", GroupThousands(t.actual_rows));
    } else if (t.expected_rows != t.actual_rows) {
      rows = fmt::format("{} ❌ (source: {}, count {})", GroupThousands(t.actual_rows), GroupThousands(t.expected_rows),
                         SignedDelta(t.expected_rows, t.actual_rows));
    } else {
      rows = GroupThousands(t.actual_rows);
    }
    out += fmt::format("| {} | {} | {} | {} |\n", MdText(t.QualifiedName()), MdText(rows), TsOrDash(rec, false),
                       TsOrDash(rec, true));
  }
  MdLeftOut(r.compare.tables.size() - shown.size(), "matching table", out);
}

// Content hashes, and the rows of the tables that differ.
void MdChecksums(const DrillReport& r, TableList list, std::string& out) {
  out += "\n### Data Integrity Checksums\n";
  out += "| Table | Content Hash | Status |\n";
  out += "|-------|--------------|--------|\n";
  const std::vector<const TableComparison*> shown = ShownTables(r, list);
  for (const auto* t : shown) {
    std::string hash = (t->status == TableStatus::kMissing ? t->expected_hash : t->actual_hash).Hex();
    out += fmt::format("| {} | {} | {} {} |\n", MdText(t->QualifiedName()), hash.empty() ? "-" : MdText(hash),
                       Mark(t->status == TableStatus::kMatch), TableStatusName(t->status));
  }
  MdLeftOut(r.compare.tables.size() - shown.size(), "matching table", out);
  bool any_mismatch = std::any_of(r.compare.tables.begin(), r.compare.tables.end(),
                                  [](const TableComparison& t) { return t.status == TableStatus::kMismatch; });
  if (any_mismatch) {
    out += "\n#### Differing Rows\n";
    for (const auto& t : r.compare.tables) {
      if (t.status != TableStatus::kMismatch) continue;
      out += fmt::format("- **{}**: {} in the source, {} restored", MdText(t.QualifiedName()),
                         Count(t.expected_rows, "row"), GroupThousands(t.actual_rows));
      if (t.expected_rows != t.actual_rows) out += " (count " + SignedDelta(t.expected_rows, t.actual_rows) + ")";
      out += fmt::format("; source hash {}\n", MdCode(t.expected_hash.Hex()));
      if (t.columns_differ) {
        out += fmt::format("  - columns differ: {} in the source, {} restored\n",
                           MdCode(fmt::format("{}", fmt::join(t.expected_columns, ", "))),
                           MdCode(fmt::format("{}", fmt::join(t.actual_columns, ", "))));
        continue;
      }
      if (!t.rows_located) {
        out += fmt::format("  - rows not named: {}\n", MdText(t.not_located_reason));
        continue;
      }
      out += fmt::format("  - {} missing, {} extra, {} changed ({})\n", GroupThousands(t.missing),
                         GroupThousands(t.extra), GroupThousands(t.changed),
                         t.key_columns.empty() ? std::string("no key: whole rows shown")
                                               : "key " + MdCode(fmt::format("{}", fmt::join(t.key_columns, ", "))));
      auto list = [&](const char* what, const std::vector<std::string>& keys, uint64_t total) {
        for (const auto& k : keys) out += fmt::format("  - {}: {}\n", what, MdCode(k));
        if (total > keys.size())
          out += fmt::format("  - … and {} more {}\n", GroupThousands(total - keys.size()), what);
      };
      list("missing", t.missing_keys, t.missing);
      list("extra", t.extra_keys, t.extra);
      list("changed", t.changed_keys, t.changed);
    }
  }
}

// The audit chains of the side shown.
void MdChains(const DrillReport& r, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\n### Audit Chain Verification\n";
  if (!side.ran) {
    out += fmt::format("Not run: {}\n", MdText(side.not_run_reason));
  } else if (side.chains.empty()) {
    out += "No audit chain was configured (`--chain`, `--chain-config`).\n";
  }
  for (const auto& c : side.chains) MdChain(c, FindChain(Other(r), c.spec), out);
}

// Temporal consistency of the side shown.
void MdTemporal(const DrillReport& r, TableList list, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\n## Integrity Validation Results\n";
  out += "\n### Temporal Consistency\n";
  if (!side.ran) {
    out += fmt::format("Not run: {}\n", MdText(side.not_run_reason));
  } else {
    TemporalTotals t = Totals(side);
    out += fmt::format("- **Future Timestamps**: {} {}", Count(t.future, "violation"), Mark(t.future == 0));
    if (t.future) out += fmt::format(" ({})", MdText(fmt::format("{}", fmt::join(t.future_where, "; "))));
    out += "\n";
    out += fmt::format("- **NULL Timestamps**: {} {}", Count(t.nulls, "violation"), Mark(t.nulls == 0));
    if (t.nulls) out += fmt::format(" ({})", MdText(fmt::format("{}", fmt::join(t.null_where, "; "))));
    out += "\n";
    if (r.recovery_window) {
      out += fmt::format("- **Recovery Window Records** ({} to {}):\n", FormatTimestamp(r.recovery_window->first),
                         FormatTimestamp(r.recovery_window->second));
      const bool every = ListsEveryTable(list, r.compare.tables.size());
      size_t left_out = 0;
      for (const auto& tab : side.temporal) {
        const TimeColumnStats* rec = tab.record();
        if (rec == nullptr) continue;
        if (!every) {
          ++left_out;
          continue;
        }
        out += fmt::format("  - {}: {}\n", MdText(tab.QualifiedName()), Count(rec->in_window, "record"));
      }
      if (left_out > 0) out += "  - " + MdText(LeftOutLine(left_out, "table")) + "\n";
    }
    out += fmt::format("- **Latest Record**: source {}, restored {}\n",
                       r.source_latest_us ? FormatTimestamp(*r.source_latest_us) : std::string("-"),
                       r.restored_latest_us ? FormatTimestamp(*r.restored_latest_us) : std::string("-"));
  }
}

// The --gap-column sequences of the side shown.
void MdGaps(const DrillReport& r, std::string& out) {
  const SourceChecks& side = Shown(r);
  if (!side.gaps.empty()) {
    out += "\n### Sequence Gaps\n";
    for (const auto& g : side.gaps) {
      std::string name = MdText(QualifiedTableName(g.schema, g.table) + "." + g.column);
      if (!g.found) {
        out += fmt::format("- **{}**: ❌ column not found\n", name);
        continue;
      }
      out += fmt::format("- **{}**: {} {} ({}, {} suspicious, max gap size {}", name, Count(g.result.gaps, "gap"),
                         Mark(g.Passed()), Count(g.result.distinct, "value"), GroupThousands(g.result.suspicious),
                         GroupThousands(g.result.max_gap));
      if (g.result.gaps) out += "; missing " + Ranges(g.result.ranges, g.result.gaps);
      if (g.non_integer) out += fmt::format("; {} NULL or non-integer", Count(g.non_integer, "value"));
      out += ")\n";
    }
  }
}

// Orphans per foreign key of the side shown.
void MdOrphans(const DrillReport& r, std::string& out) {
  const SourceChecks& side = Shown(r);
  out += "\n### Referential Integrity\n";
  if (!side.ran) {
    out += fmt::format("Not run: {}\n", MdText(side.not_run_reason));
  } else if (side.orphans.empty()) {
    out += "No foreign keys to check (the source declares none; add `--fk`).\n";
  }
  for (const auto& o : side.orphans) {
    std::string head = MdText(fmt::format("Orphaned {} → {}", QualifiedTableName(o.fk.schema, o.fk.table),
                                          QualifiedTableName(o.fk.ref_schema, o.fk.ref_table)));
    if (!o.not_checked.empty()) {
      out += fmt::format("- **{}**: ❌ not checked: {}\n", head, MdText(o.not_checked));
      continue;
    }
    if (!o.not_checkable.empty()) {
      out += fmt::format("- **{}**: ℹ️ not checkable: {}\n", head, MdText(o.not_checkable));
      continue;
    }
    out +=
        fmt::format("- **{}**: {} {} ({})\n", head, Count(o.orphans, "violation"), Mark(o.Passed()), MdCode(o.Name()));
    for (const auto& s : o.samples) out += fmt::format("  - {}\n", MdCode(s));
    if (o.orphans > o.samples.size() && !o.samples.empty()) {
      out += fmt::format("  - … and {} more\n", GroupThousands(o.orphans - o.samples.size()));
    }
  }
  if (side.ran && !side.fk_note.empty()) out += fmt::format("\nNote: {}\n", MdText(side.fk_note));
}

// Sequences that fail or are ahead, and large objects.
void MdSequences(const DrillReport& r, std::string& out) {
  const CompareReport& c = r.compare;
  if (!c.sequences.empty() || !c.sequences_not_compared.empty()) {
    out += "\n### Sequences\n";
    if (!c.sequences_compared) out += fmt::format("Not compared: {}\n", MdText(c.sequences_not_compared));
    size_t fine = 0;
    for (const auto& s : c.sequences) {
      if (s.Failed() || s.state == SequenceState::kAhead) {
        out += fmt::format("- **{}**: {} {}\n", MdText(s.QualifiedName()), s.Failed() ? "❌" : "ℹ️",
                           MdText(SequenceDetail(s)));
      } else {
        ++fine;
      }
    }
    for (const auto& k : r.sequence_columns) {
      if (!k.Passed()) {
        out += fmt::format("- **{} behind {}**: ❌ {}\n",
                           MdText(QualifiedTableName(k.column.sequence.schema, k.column.sequence.name)),
                           MdText(k.column.column.Qualified()), MdText(SequenceColumnDetail(k)));
      }
    }
    if (c.sequences_compared) out += fmt::format("- {} the same as the source ✅\n", Count(fine, "sequence"));
  }
  const LargeObjectsComparison& lo = c.large_objects;
  if (lo.compared && (lo.expected_count > 0 || lo.actual_count > 0)) {
    out += fmt::format("\n### Large Objects\n- {} {}\n", Mark(lo.Passed()), MdText(LargeObjectsDetail(lo)));
  } else if (!lo.compared && !lo.not_compared.empty()) {
    out += fmt::format("\n### Large Objects\nNot compared: {}{}\n", MdText(lo.not_compared), MdText(LeftOutText(r)));
  }
}

void MdSchema(const DrillReport& r, std::string& out) {
  out += "\n### Schema Objects\n";
  if (!r.schema.kinds.empty()) {
    out += "| Kind | Compared | Missing | Extra | Changed | Result |\n";
    out += "|------|----------|---------|-------|---------|--------|\n";
    for (const auto& k : r.schema.kinds) {
      const bool ok = k.missing + k.extra + k.changed == 0;
      out += fmt::format("| {}{} | {} | {} | {} | {} | {} |\n", MdText(k.kind), k.by_presence ? " (by presence)" : "",
                         k.compared, k.missing, k.extra, k.changed, ok ? "✅ PASS" : "❌ FAIL");
    }
  }
  size_t listed = 0;
  for (const auto& d : r.schema.differences) {
    if (listed++ == 0) out += "\n";
    if (listed > 50) {
      out += fmt::format("- … and {} more\n", r.schema.differences.size() - 50);
      break;
    }
    out += fmt::format("- {} {}\n", SchemaDiffKindName(d.kind), MdCode(d.name));
  }
  out += "\n";
  for (const auto& n : SchemaNotes(r)) out += "_" + MdText(n) + "._\n";
}

// The final hashes and the list of checks with their details.
void MdFinal(const DrillReport& r, TableList list, std::string& out) {
  out += "\n### Final Validation Hash\n```\n";
  out += fmt::format("FINAL_VALIDATION_HASH: {}\n```\n",
                     r.restored_final_hash.empty() ? "not computed" : r.restored_final_hash);
  bool same = !r.source_final_hash.empty() && r.source_final_hash == r.restored_final_hash;
  out += fmt::format("- **Source**: {} {}\n",
                     r.source_final_hash.empty() ? std::string("not computed") : MdCode(r.source_final_hash),
                     same ? "✅ MATCH" : "❌ MISMATCH");

  out += "\n## Checks\n";
  out += "| Section | Check | Result | Detail |\n";
  out += "|---------|-------|--------|--------|\n";
  // Each table's content is a check: past the listing limit, only the
  // failed checks are listed.
  const bool every = ListsEveryTable(list, r.compare.tables.size());
  for (const auto& c : r.checks) {
    if (!every && c.passed) continue;
    out += fmt::format("| {} | {} | {} | {} |\n", MdText(c.section), MdText(c.name), c.passed ? "✅ PASS" : "❌ FAIL",
                       MdText(DrillCheckDetail(r, c)));
  }
  if (!every) MdLeftOut(r.checks.size() - FailedChecks(r), "passed check", out);
  out += fmt::format("\n**Overall Result: {}**\n", DrillVerdict(r));
}

}  // namespace

std::string DrillMarkdown(const DrillReport& r, TableList list) {
  std::string out = fmt::format("# DR Restore Validation Report - {}\n", FormatTimestamp(r.now_us).substr(0, 10));
  MdSummary(r, out);
  MdObjectives(r, out);
  MdRowCounts(r, list, out);
  MdChecksums(r, list, out);
  MdChains(r, out);
  MdTemporal(r, list, out);
  MdGaps(r, out);
  MdOrphans(r, out);
  if (r.index_checks) {
    out +=
        fmt::format("\n### Index Integrity\n{} {}\n", Mark(r.index_checks->failures.empty()), MdText(IndexesDetail(r)));
  }
  MdSequences(r, out);
  MdSchema(r, out);
  MdFinal(r, list, out);
  return out;
}

// ---------------------------------------------------------------------------
// JSON.

namespace {

using Json = nlohmann::ordered_json;  // keys in the order written

Json TimeJson(int64_t us) { return {{"utc", FormatTimestamp(us, true)}, {"us", us}}; }

Json OptTime(const std::optional<int64_t>& us) { return us ? TimeJson(*us) : Json(nullptr); }

Json SpecJson(const ChainSpec& s) {
  return {{"table", s.table},
          {"seq_column", s.seq_column},
          {"prev_column", s.prev_column},
          {"hash_column", s.hash_column},
          {"fields", s.fields},
          {"separator", s.separator},
          {"timestamps", TimestampRenderingName(s.timestamps)},
          {"algorithm", ChainAlgorithmName(s.algorithm)},
          {"encoding", ChainEncodingName(s.encoding)},
          {"genesis", s.genesis},
          {"null_as", s.null_as}};
}

Json GapResultJson(const SeqGapTracker::Result& g) {
  Json ranges = Json::array();
  for (const auto& [a, b] : g.ranges) ranges.push_back({{"from", a}, {"to", b}, {"size", b - a + 1}});
  return {{"values", g.values},   {"distinct", g.distinct}, {"duplicates", g.duplicates},
          {"min", g.min},         {"max", g.max},           {"gaps", g.gaps},
          {"missing", g.missing}, {"max_gap", g.max_gap},   {"suspicious", g.suspicious},
          {"ranges", ranges}};
}

Json ChainJson(const ChainCheck& c) {
  const auto& x = c.result;
  return {{"table", c.spec.table},
          {"spec", SpecJson(c.spec)},
          {"description", c.description},
          {"found", c.found},
          {"error", c.error},
          {"passed", c.Passed()},
          {"spec_looks_wrong", c.SpecLooksWrong()},
          {"bad_rows", c.bad_rows},
          {"bad_row_samples", c.bad_row_samples},
          {"entries", x.entries},
          {"min_seq", x.min_seq},
          {"max_seq", x.max_seq},
          {"head_hash", x.head_hash},
          {"link_failures", x.link_failures},
          {"first_link_failures", x.first_link_failures},
          {"continuity_breaks", x.continuity_breaks},
          {"first_breaks", x.first_breaks},
          {"duplicates", x.duplicates},
          {"first_duplicates", x.first_duplicates},
          {"all_links_fail", x.all_links_fail()},
          {"gaps", GapResultJson(c.gaps)}};
}

Json GapJson(const GapCheck& g) {
  return {{"schema", g.schema},
          {"table", g.table},
          {"column", g.column},
          {"found", g.found},
          {"passed", g.Passed()},
          {"non_integer", g.non_integer},
          {"result", GapResultJson(g.result)}};
}

Json OrphanJson(const OrphanCheck& o) {
  return {{"name", o.Name()},
          {"constraint", o.fk.name},
          {"table", QualifiedTableName(o.fk.schema, o.fk.table)},
          {"columns", o.fk.columns},
          {"references", QualifiedTableName(o.fk.ref_schema, o.fk.ref_table)},
          {"ref_columns", o.fk.ref_columns},
          {"declared", o.declared},
          {"checked", o.Checked()},
          {"not_checked", o.not_checked},
          {"not_checkable", o.not_checkable},
          {"passed", o.Passed()},
          {"child_rows", o.child_rows},
          {"null_refs", o.null_refs},
          {"parent_keys", o.parent_keys},
          {"orphans", o.orphans},
          {"samples", o.samples}};
}

Json TemporalJson(const TableTemporal& t) {
  Json cols = Json::array();
  for (const auto& c : t.columns) {
    Json j = {{"column", c.column},   {"record", c.column == t.record_column},
              {"values", c.values},   {"nulls", c.nulls},
              {"future", c.future},   {"in_window", c.in_window},
              {"invalid", c.invalid}, {"future_samples", c.future_samples}};
    j["earliest"] = c.values > 0 ? TimeJson(c.min_us) : Json(nullptr);
    j["latest"] = c.values > 0 ? TimeJson(c.max_us) : Json(nullptr);
    cols.push_back(std::move(j));
  }
  return {{"schema", t.schema},
          {"name", t.name},
          {"table", t.QualifiedName()},
          {"rows", t.rows},
          {"record_column", t.record_column},
          {"columns", cols}};
}

Json SideJson(const SourceChecks& c) {
  Json chains = Json::array(), gaps = Json::array(), orphans = Json::array(), temporal = Json::array();
  for (const auto& x : c.chains) chains.push_back(ChainJson(x));
  for (const auto& x : c.gaps) gaps.push_back(GapJson(x));
  for (const auto& x : c.orphans) orphans.push_back(OrphanJson(x));
  for (const auto& x : c.temporal) temporal.push_back(TemporalJson(x));
  return {{"ran", c.ran},         {"not_run_reason", c.not_run_reason},
          {"fk_note", c.fk_note}, {"latest_record", OptTime(c.LatestRecord())},
          {"chains", chains},     {"gaps", gaps},
          {"orphans", orphans},   {"temporal", temporal}};
}

Json ObjectiveJson(const std::optional<int64_t>& v, const std::optional<int64_t>& target) {
  Json j = {{"measured", v.has_value()}};
  j["us"] = v ? Json(*v) : Json(nullptr);
  j["seconds"] = v ? Json(static_cast<double>(*v) / 1e6) : Json(nullptr);
  j["target_us"] = target ? Json(*target) : Json(nullptr);
  j["target_seconds"] = target ? Json(static_cast<double>(*target) / 1e6) : Json(nullptr);
  j["passed"] = target ? Json(TargetMet(v, target)) : Json(nullptr);
  return j;
}

// The RPO objective, with the table behind it and every table's lag.
Json RpoJson(const DrillReport& r) {
  Json j = ObjectiveJson(r.rpo_us, r.rpo_target_us);
  const TableLag* w = r.WorstLoss();
  j["table"] = w != nullptr ? Json(w->QualifiedName()) : Json(nullptr);
  Json tables = Json::array();
  for (const TableLag& l : r.table_lags) {
    tables.push_back({{"schema", l.schema},
                      {"name", l.name},
                      {"column", l.column},
                      {"source_latest", TimeJson(l.source_latest_us)},
                      {"restored_latest", OptTime(l.restored_latest_us)},
                      {"lag_us", l.lag_us}});
  }
  j["tables"] = std::move(tables);
  return j;
}

}  // namespace

namespace {

Json DrillSequencesJson(const DrillReport& r) {
  Json j = SequencesJson(r.compare);
  Json cols = Json::array();
  for (const auto& k : r.sequence_columns) {
    cols.push_back({{"side", k.restored ? "restored" : "source"},
                    {"sequence", QualifiedTableName(k.column.sequence.schema, k.column.sequence.name)},
                    {"column", k.column.column.Qualified()},
                    {"column_max", k.column.max},
                    {"next_value", k.has_state && !k.exhausted ? Json(k.next) : Json(nullptr)},
                    {"passed", k.Passed()}});
  }
  j["behind_column_checks"] = cols;
  return j;
}

Json SchemaJson(const DrillReport& r) {
  const SchemaComparison& s = r.schema;
  Json kinds = Json::array();
  for (const auto& k : s.kinds) {
    kinds.push_back({{"kind", k.kind},
                     {"compared", k.compared},
                     {"by_presence", k.by_presence},
                     {"cluster", k.cluster},
                     {"missing", k.missing},
                     {"extra", k.extra},
                     {"changed", k.changed}});
  }
  Json diffs = Json::array();
  for (const auto& d : s.differences) diffs.push_back({{"object", d.name}, {"status", SchemaDiffKindName(d.kind)}});
  return {{"compared", s.compared},
          {"not_compared", s.compared ? Json(nullptr) : Json(s.not_compared)},
          {"exact", s.exact},
          {"cluster_compared", s.cluster_compared},
          {"cluster_not_compared", s.cluster_compared || !s.compared ? Json(nullptr) : Json(s.cluster_not_compared)},
          {"presence_kinds", s.PresenceKinds()},
          {"child_objects_not_in_dump", s.child_objects_not_in_dump},
          {"column_order_differs", s.column_order_differs},
          {"kinds", kinds},
          {"differences", diffs}};
}

}  // namespace

std::string DrillJson(const DrillReport& r) {
  const SourceChecks& side = Shown(r);
  Json tables = Json::array();
  for (const auto& t : r.compare.tables) {
    const TableTemporal* tt = FindTemporal(side, t.schema, t.name);
    const TimeColumnStats* rec = tt ? tt->record() : nullptr;
    Json j = TableComparisonJson(t);
    j["record_column"] = tt ? tt->record_column : std::string();
    j["earliest_record"] = rec && rec->values ? TimeJson(rec->min_us) : Json(nullptr);
    j["latest_record"] = rec && rec->values ? TimeJson(rec->max_us) : Json(nullptr);
    tables.push_back(std::move(j));
  }
  Json checks = Json::array();
  for (const auto& c : r.checks) {
    checks.push_back(
        {{"section", c.section}, {"name", c.name}, {"passed", c.passed}, {"detail", DrillCheckDetail(r, c)}});
  }
  Json window = nullptr;
  if (r.recovery_window)
    window = {{"from", TimeJson(r.recovery_window->first)}, {"to", TimeJson(r.recovery_window->second)}};
  auto side_info = [](const std::string& location, const DigestReport& d) {
    return Json{{"location", location},
                {"kind", d.source.kind},
                {"compression", d.source.compression},
                {"properties", d.source.properties},
                {"tables", d.tables.size()},
                {"bytes_read", d.bytes_read},
                {"seconds", d.seconds},
                {"jobs", d.jobs}};
  };
  size_t failed = FailedChecks(r);
  Json j = {{"version", VOUCH_VERSION},
            {"source", side_info(r.source, r.compare.expected)},
            {"restored", side_info(r.restored, r.compare.actual)},
            {"passed", r.outcome().Verified()},
            {"summary", {{"checks", r.checks.size()}, {"failed", failed}, {"verdict", DrillVerdict(r)}}},
            {"seconds", r.seconds},
            {"now", TimeJson(r.now_us)},
            {"tables", tables},
            {"final_validation_hash",
             {{"source", r.source_final_hash},
              {"restored", r.restored_final_hash},
              {"match", !r.source_final_hash.empty() && r.source_final_hash == r.restored_final_hash}}},
            {"schema_validation_hash",
             {{"source", r.source_schema_hash.empty() ? Json(nullptr) : Json(r.source_schema_hash)},
              {"restored", r.restored_schema_hash.empty() ? Json(nullptr) : Json(r.restored_schema_hash)},
              {"with_cluster_objects", r.schema_hash_with_cluster},
              {"match", r.source_schema_hash == r.restored_schema_hash}}},
            {"schema_objects", SchemaJson(r)},
            {"checks_run", {{"source", SideJson(r.source_checks)}, {"restored", SideJson(r.restored_checks)}}},
            {"latest_record", {{"source", OptTime(r.source_latest_us)}, {"restored", OptTime(r.restored_latest_us)}}},
            {"recovery_window", window},
            {"rpo", RpoJson(r)},
            {"rto", ObjectiveJson(r.rto_us, r.rto_target_us)},
            {"checks", checks}};
  if (r.index_checks) {
    Json failures = Json::array();
    for (const auto& f : r.index_checks->failures)
      failures.push_back({{"index", f.index}, {"table", f.table}, {"error", f.error}});
    j["indexes"] = {{"checked", r.index_checks->checked}, {"failures", std::move(failures)}};
  }
  j["sequences"] = DrillSequencesJson(r);
  j["large_objects"] = LargeObjectsJson(r.compare.large_objects);
  if (r.rows_only) {
    // Said only when asked for: no sequence, large object or schema object
    // compared, and the final hashes over the tables and chains alone.
    j["rows_only"] = true;
    j["final_validation_hash"]["covers"] =
        "the rows and audit chains only (--rows-only): " + RowsOnlyHashNote(r.compare, "source", "restored copy");
    j["schema_validation_hash"] = {{"source", nullptr}, {"restored", nullptr}, {"not_computed", "--rows-only"},
                                   {"match", nullptr}};
    j["large_objects"]["left_out"] = {{"source", LargeObjectsLeftOutJson(r.compare.expected)},
                                      {"restored", LargeObjectsLeftOutJson(r.compare.actual)}};
  }
  // The row checks per kind, both sides, also at the top level for easy access.
  for (const char* kind : {"chains", "gaps", "orphans", "temporal"}) {
    j[kind] = {{"source", j["checks_run"]["source"][kind]}, {"restored", j["checks_run"]["restored"][kind]}};
    j["checks_run"]["source"].erase(kind);
    j["checks_run"]["restored"].erase(kind);
  }
  // Keys and samples are row text: never let a stray byte make dump() throw.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// ---------------------------------------------------------------------------
// JUnit.

std::string DrillJUnit(const DrillReport& r) {
  size_t failed = FailedChecks(r);
  std::string ts = FormatTimestamp(r.now_us);
  if (ts.size() > 10) ts[10] = 'T';
  // --rows-only: what was not compared is a skipped test case each, never a pass.
  std::vector<std::pair<std::string, std::string>> skipped;
  if (r.rows_only) {
    skipped = {{"Sequences", "sequences"}, {"Large Objects", "large objects"}, {"Schema Objects", "schema objects"},
               {"Schema Validation Hash", "SCHEMA_VALIDATION_HASH"}};
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuite name=\"vouch drill\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\" "
      "timestamp=\"{}\">\n",
      r.checks.size() + skipped.size(), failed, skipped.size(), r.seconds, ts);
  out += "  <properties>\n";
  auto prop = [&](const char* name, const std::string& value) {
    out += fmt::format("    <property name=\"{}\" value=\"{}\"/>\n", name, Xml(value));
  };
  prop("source", r.source);
  prop("restored", r.restored);
  prop("source_final_validation_hash", r.source_final_hash);
  prop("restored_final_validation_hash", r.restored_final_hash);
  prop("source_schema_validation_hash", r.source_schema_hash);
  prop("restored_schema_validation_hash", r.restored_schema_hash);
  prop("verdict", DrillVerdict(r));
  if (r.rows_only) prop("rows_only", "true");
  out += "  </properties>\n";
  for (const auto& c : r.checks) {
    std::string open =
        fmt::format("  <testcase classname=\"{}\" name=\"{}\"", Xml("vouch.drill." + c.section), Xml(c.name));
    if (c.passed) {
      out += open + "/>\n";
    } else {
      out += open + ">\n";
      std::string detail = Xml(DrillCheckDetail(r, c));
      out += fmt::format("    <failure message=\"{}\" type=\"{}\">{}</failure>\n", detail, Xml(c.section), detail);
      out += "  </testcase>\n";
    }
  }
  for (const auto& [section, name] : skipped) {
    out += fmt::format("  <testcase classname=\"{}\" name=\"{}\">\n    <skipped message=\"not compared: "
                       "--rows-only\"/>\n  </testcase>\n",
                       Xml("vouch.drill." + section), Xml(name));
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace vouch::cli
