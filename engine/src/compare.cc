#include "vouch/engine/compare.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "objects_compare.h"
#include "vouch/engine/partitions.h"
#include "vouch/engine/source.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/readers/binary_copy.h"
#include "vouch/readers/canonical_row.h"

namespace vouch {
namespace {

using TableKey = std::pair<std::string, std::string>;  // (schema, name)

// The rows of one table that fall into its differing buckets.
struct Collected {
  std::unordered_set<uint32_t> buckets;
  uint32_t bucket_count = TableDigest::kDefaultBuckets;
  std::vector<std::string> rows;  // canonical rows
};

// Pass 2 over one source: keeps the canonical rows of the wanted tables whose
// bucket differs. Bounded by `max_bytes` of row text in total.
Status CollectRows(Source& source, const DigestOptions& options, std::map<TableKey, Collected>& wanted,
                   size_t max_bytes, std::string* too_many) {
  std::vector<std::string> names;
  for (const auto& [k, c] : wanted) names.push_back(QualifiedTableName(k.first, k.second));
  auto opened = source.Read(options, names);
  if (!opened.ok()) return opened.status();
  TableStreamReader& reader = **opened;
  RowChunk chunk;
  CanonicalScratch scratch;
  std::string converted;
  size_t held = 0;
  while (true) {
    auto more = reader.NextChunk(chunk, options.chunk_size);
    if (!more.ok()) return more.status();
    if (!*more) break;
    VOUCH_RETURN_IF_ERROR(ConvertBinaryChunk(chunk, converted));
    auto it = wanted.find({chunk.table->schema, chunk.table->name});
    if (it == wanted.end()) continue;
    Collected& c = it->second;
    RowCanonicalizer canon(*chunk.table);
    std::string_view rows(chunk.data.data(), chunk.size);
    while (!rows.empty()) {
      size_t nl = rows.find('\n');
      std::string_view canonical;
      size_t fields = 0;
      if (canon.Canonicalize(rows.substr(0, nl), scratch, &canonical, &fields) != RowCanonicalizer::kOk) {
        return Corrupt(source.spec() + ": table " + chunk.table->QualifiedName() +
                       ": malformed row during the second pass");
      }
      if (c.buckets.count(TableDigest::BucketOf(HashRow(canonical), c.bucket_count))) {
        held += canonical.size() + sizeof(std::string);
        if (held > max_bytes) {
          *too_many = "the rows in differing buckets exceed " + std::to_string(max_bytes >> 20) +
                      " MB (too many differences to list)";
          return Status::Ok();
        }
        c.rows.emplace_back(canonical);
      }
      rows.remove_prefix(nl + 1);
    }
  }
  return Status::Ok();
}

// Splits a canonical row into its fields.
std::vector<std::string_view> Fields(std::string_view row) {
  std::vector<std::string_view> out;
  while (true) {
    size_t tab = row.find('\t');
    out.push_back(row.substr(0, tab));
    if (tab == std::string_view::npos) return out;
    row.remove_prefix(tab + 1);
  }
}

// "id=5" or "(a, b)=(1, x)"; the whole row (shortened) when there is no key.
std::string KeyOf(std::string_view row, const std::vector<size_t>& key_fields,
                  const std::vector<std::string>& key_names) {
  if (key_fields.empty()) {
    std::string r(row.substr(0, 120));
    if (row.size() > 120) r += "...";
    return "row " + r;
  }
  auto f = Fields(row);
  std::string names, values;
  for (size_t i = 0; i < key_fields.size(); ++i) {
    if (i) {
      names += ", ";
      values += ", ";
    }
    names += key_names[i];
    values += key_fields[i] < f.size() ? std::string(f[key_fields[i]]) : "?";
  }
  return key_fields.size() == 1 ? names + "=" + values : "(" + names + ")=(" + values + ")";
}

void Locate(TableComparison& t, const std::vector<std::string>& exp_rows, const std::vector<std::string>& act_rows,
            size_t max_keys) {
  // Multiset difference of the collected rows.
  std::unordered_map<std::string_view, int64_t> count;
  for (const auto& r : exp_rows) ++count[r];
  for (const auto& r : act_rows) --count[r];
  // Key positions in the canonical (sorted) column order.
  std::vector<size_t> key_fields;
  for (const auto& k : t.key_columns) {
    auto pos = std::find(t.expected_columns.begin(), t.expected_columns.end(), k);
    if (pos == t.expected_columns.end()) {
      key_fields.clear();
      break;
    }
    key_fields.push_back(static_cast<size_t>(pos - t.expected_columns.begin()));
  }
  if (key_fields.size() != t.key_columns.size()) key_fields.clear();
  // key -> (rows only in expected, rows only in actual)
  std::map<std::string, std::pair<int64_t, int64_t>> by_key;
  for (const auto& [row, n] : count) {
    if (n == 0) continue;
    auto& e = by_key[KeyOf(row, key_fields, t.key_columns)];
    (n > 0 ? e.first : e.second) += n > 0 ? n : -n;
  }
  auto add = [&](std::vector<std::string>& list, uint64_t& total, const std::string& key, int64_t n) {
    total += static_cast<uint64_t>(n);
    if (list.size() < max_keys) list.push_back(n > 1 ? key + " (×" + std::to_string(n) + ")" : key);
  };
  for (const auto& [key, n] : by_key) {
    int64_t both = key_fields.empty() ? 0 : std::min(n.first, n.second);
    if (both > 0) add(t.changed_keys, t.changed, key, both);
    if (n.first > both) add(t.missing_keys, t.missing, key, n.first - both);
    if (n.second > both) add(t.extra_keys, t.extra, key, n.second - both);
  }
  t.rows_located = true;
}

// The roll-ups of both sides, side by side: equal roll-ups over differing
// leaves are "moved" (same rows, different partitions).
std::vector<RollupComparison> CompareRollups(const CompareReport& report) {
  std::map<TableKey, PartitionRollup> exp, act;
  for (auto& r : PartitionRollups(report.expected.tables)) exp[{r.schema, r.name}] = std::move(r);
  for (auto& r : PartitionRollups(report.actual.tables)) act[{r.schema, r.name}] = std::move(r);
  std::map<TableKey, TableStatus> leaf_status;
  for (const auto& t : report.tables) leaf_status[{t.schema, t.name}] = t.status;
  std::map<TableKey, RollupComparison> out;
  auto side = [&](const PartitionRollup& r, bool expected) {
    RollupComparison& c = out[{r.schema, r.name}];
    c.schema = r.schema;
    c.name = r.name;
    (expected ? c.expected_leaves : c.actual_leaves) = r.leaves.size();
    (expected ? c.expected_rows : c.actual_rows) = r.rows;
    (expected ? c.expected_hash : c.actual_hash) = r.not_computed.empty() ? r.digest.ContentHashHex() : "";
    if (!r.not_computed.empty()) c.not_computed = r.not_computed;
    for (const auto& leaf : r.leaves) {
      std::string q = QualifiedTableName(leaf.schema, leaf.name);
      auto st = leaf_status.find({leaf.schema, leaf.name});
      bool differs = st == leaf_status.end() || st->second != TableStatus::kMatch;
      if (differs && std::find(c.differing_leaves.begin(), c.differing_leaves.end(), q) == c.differing_leaves.end()) {
        c.differing_leaves.push_back(q);
      }
    }
  };
  for (const auto& [k, r] : exp) side(r, true);
  for (const auto& [k, r] : act) side(r, false);
  std::vector<RollupComparison> list;
  for (auto& [k, c] : out) {
    std::sort(c.differing_leaves.begin(), c.differing_leaves.end());
    if (!act.count(k)) {
      c.status = RollupStatus::kMissing;
    } else if (!exp.count(k)) {
      c.status = RollupStatus::kExtra;
    } else if (!c.not_computed.empty() || c.expected_hash != c.actual_hash) {
      c.status = RollupStatus::kMismatch;
    } else {
      c.status = c.differing_leaves.empty() ? RollupStatus::kMatch : RollupStatus::kMoved;
    }
    list.push_back(std::move(c));
  }
  return list;
}

// Names the rows that pass 2 found leaving one leaf and arriving in another
// leaf under the same partitioned table: the same row text, missing from
// leaf A and extra in leaf B.
void LocateMoves(RollupComparison& c, const CompareReport& report, const std::map<TableKey, Collected>& want_e,
                 const std::map<TableKey, Collected>& want_a, size_t max_keys) {
  struct Place {
    const TableComparison* leaf;
    int64_t net;  // rows only in expected (> 0) or only in actual (< 0)
  };
  std::map<std::string_view, std::vector<Place>> places;
  for (const auto& t : report.tables) {
    if (std::find(c.differing_leaves.begin(), c.differing_leaves.end(), t.QualifiedName()) ==
        c.differing_leaves.end()) {
      continue;
    }
    auto e = want_e.find({t.schema, t.name});
    auto a = want_a.find({t.schema, t.name});
    if (e == want_e.end() || a == want_a.end()) continue;
    std::unordered_map<std::string_view, int64_t> count;
    for (const auto& r : e->second.rows) ++count[r];
    for (const auto& r : a->second.rows) --count[r];
    for (const auto& [row, n] : count) {
      if (n != 0) places[row].push_back({&t, n});
    }
  }
  std::vector<std::string> keys;
  for (auto& [row, list] : places) {
    for (Place& from : list) {
      for (Place& to : list) {
        if (from.net <= 0 || to.net >= 0) continue;
        int64_t n = std::min(from.net, -to.net);
        from.net -= n;
        to.net += n;
        c.moved += static_cast<uint64_t>(n);
        if (keys.size() >= max_keys) continue;
        const TableComparison& leaf = *from.leaf;
        std::vector<size_t> key_fields;
        for (const auto& k : leaf.key_columns) {
          auto pos = std::find(leaf.expected_columns.begin(), leaf.expected_columns.end(), k);
          if (pos != leaf.expected_columns.end()) {
            key_fields.push_back(static_cast<size_t>(pos - leaf.expected_columns.begin()));
          }
        }
        if (key_fields.size() != leaf.key_columns.size()) key_fields.clear();
        keys.push_back(KeyOf(row, key_fields, leaf.key_columns) + (n > 1 ? " (×" + std::to_string(n) + ")" : "") +
                       ": " + leaf.QualifiedName() + " → " + to.leaf->QualifiedName());
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  c.moved_keys = std::move(keys);
  c.moves_located = true;
}

}  // namespace

const char* RollupStatusName(RollupStatus s) {
  switch (s) {
    case RollupStatus::kMatch: return "MATCH";
    case RollupStatus::kMoved: return "MOVED";
    case RollupStatus::kMismatch: return "MISMATCH";
    case RollupStatus::kMissing: return "MISSING";
    case RollupStatus::kExtra: return "EXTRA";
  }
  return "?";
}

std::string RollupComparison::QualifiedName() const { return QualifiedTableName(schema, name); }

const char* TableStatusName(TableStatus s) {
  switch (s) {
    case TableStatus::kMatch: return "MATCH";
    case TableStatus::kMismatch: return "MISMATCH";
    case TableStatus::kMissing: return "MISSING";
    case TableStatus::kExtra: return "EXTRA";
  }
  return "?";
}

ContentHash ContentHash::FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != 16) return ContentHash();
  std::array<uint8_t, 16> b;
  std::copy(bytes->begin(), bytes->end(), b.begin());
  return ContentHash(b);
}

std::string ContentHash::Hex() const { return set_ ? HexEncode(bytes_.data(), bytes_.size()) : std::string(); }

std::string TableComparison::QualifiedName() const { return QualifiedTableName(schema, name); }

Outcome CompareReport::outcome() const {
  Outcome o;
  for (const auto& t : tables) {
    if (t.status != TableStatus::kMatch) {
      o.findings.push_back(
          {FindingKind::kTableDiffers, QualifiedTableName(t.schema, t.name), TableStatusName(t.status)});
    }
  }
  for (const auto& s : sequences) {
    if (!s.Failed()) continue;
    std::string detail = s.missing ? "missing" : s.extra ? "extra" : "";
    if (s.definition_differs) detail = "definition: " + s.expected_definition + " → " + s.actual_definition;
    if (s.state == SequenceState::kBehind) {
      detail += std::string(detail.empty() ? "" : "; ") + "behind by " + std::to_string(s.distance) + " (last_value " +
                std::to_string(s.expected_last) + " → " + std::to_string(s.actual_last) + ")";
    }
    o.findings.push_back({FindingKind::kSequenceDiffers, s.QualifiedName(), detail});
  }
  if (large_objects.compared && !large_objects.Passed()) {
    auto list = [](const std::vector<std::string>& v, uint64_t n) {
      std::string out;
      for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
      if (n > v.size()) out += ", ...";
      return out;
    };
    std::string detail;
    if (large_objects.missing) detail += "missing " + list(large_objects.missing_oids, large_objects.missing);
    if (large_objects.extra) detail += std::string(detail.empty() ? "" : "; ") + "extra " + list(large_objects.extra_oids, large_objects.extra);
    if (large_objects.changed) detail += std::string(detail.empty() ? "" : "; ") + "changed " + list(large_objects.changed_oids, large_objects.changed);
    o.findings.push_back({FindingKind::kLargeObjectDiffers, "large objects", detail});
  }
  return o;
}

Result<CompareReport> Compare(const std::string& expected, const std::string& actual, const CompareOptions& options) {
  // Both opened at once: each side's first read may take a while (a
  // database's catalogs, an archive's TOC).
  Result<std::unique_ptr<Source>> e = Status(StatusCode::kIoError, "not run");
  std::thread other([&] { e = OpenSource(expected, options.digest); });
  auto a = OpenSource(actual, options.digest);
  other.join();
  if (!e.ok()) return e.status();
  if (!a.ok()) return a.status();
  return Compare(**e, **a, options);
}

Result<CompareReport> Compare(Source& expected, Source& actual, const CompareOptions& options) {
  CompareReport report;
  const auto start = std::chrono::steady_clock::now();
  auto since_start = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // Both sides at once: each has its own reader (often the bottleneck) and
  // they share the cores.
  DigestOptions de = options.digest, da = options.digest;
  de.observer = options.expected_observer;
  da.observer = options.actual_observer;
  de.schema_sink = options.expected_schema_sink;
  da.schema_sink = options.actual_schema_sink;
  if (options.progress != nullptr) {
    options.progress->SetPhase("read");
    de.progress = &options.progress->side[0];
    da.progress = &options.progress->side[1];
  }
  Result<DigestReport> e = Status(StatusCode::kIoError, "not run");
  double e_end = 0;
  std::thread other([&] {
    e = DigestSource(expected, de);
    e_end = since_start();
  });
  auto a = DigestSource(actual, da);
  const double a_end = since_start();
  other.join();
  if (!e.ok()) return e.status();
  if (!a.ok()) return a.status();
  report.expected = std::move(e).value();
  report.actual = std::move(a).value();
  report.phases.push_back({"read expected", 0, e_end});
  report.phases.push_back({"read actual", 0, a_end});
  CompareSequences(report);
  CompareLargeObjects(report, options.max_keys);
  if (options.after_digests) VOUCH_RETURN_IF_ERROR(options.after_digests(report));

  // Both sides' tables are sorted by (schema, name): one merge walk pairs
  // them (no map of 100,000 names on each side).
  auto by_name = [](const TableResult& p, const TableResult& q) {
    return std::tie(p.schema, p.name) < std::tie(q.schema, q.name);
  };
  for (auto* side : {&report.expected.tables, &report.actual.tables}) {
    if (!std::is_sorted(side->begin(), side->end(), by_name)) std::sort(side->begin(), side->end(), by_name);
  }
  const auto& exp = report.expected.tables;
  const auto& act = report.actual.tables;
  report.tables.reserve(std::max(exp.size(), act.size()));
  std::map<TableKey, Collected> want_e, want_a;
  auto only_one_side = [&](const TableResult& x, bool expected) {
    TableComparison c;
    c.schema = x.schema;
    c.name = x.name;
    c.status = expected ? TableStatus::kMissing : TableStatus::kExtra;
    (expected ? c.expected_rows : c.actual_rows) = x.digest.rows();
    (expected ? c.expected_hash : c.actual_hash) = ContentHash(x.digest.ContentHash());
    (expected ? c.expected_sum : c.actual_sum) = x.digest.sum();
    (expected ? c.expected_columns : c.actual_columns) = x.columns;
    if (expected) c.key_columns = x.key_columns;
    report.tables.push_back(std::move(c));
  };
  size_t i = 0, j = 0;
  while (i < exp.size() || j < act.size()) {
    if (j == act.size() || (i < exp.size() && by_name(exp[i], act[j]))) {
      only_one_side(exp[i++], true);
      continue;
    }
    if (i == exp.size() || by_name(act[j], exp[i])) {
      only_one_side(act[j++], false);
      continue;
    }
    const TableResult* x = &exp[i++];
    const TableResult* y = &act[j++];
    TableComparison c;
    c.schema = x->schema;
    c.name = x->name;
    c.expected_rows = x->digest.rows();
    c.expected_hash = ContentHash(x->digest.ContentHash());
    c.expected_sum = x->digest.sum();
    c.actual_rows = y->digest.rows();
    c.actual_hash = ContentHash(y->digest.ContentHash());
    c.actual_sum = y->digest.sum();
    c.key_columns = x->key_columns.empty() ? y->key_columns : x->key_columns;
    c.columns_differ = x->columns != y->columns;
    if (x->digest == y->digest && !c.columns_differ) {
      c.status = TableStatus::kMatch;
      report.tables.push_back(std::move(c));
      continue;
    }
    // Column lists are kept only where they explain something: a table
    // that differs (most of 100,000 tables match).
    c.expected_columns = x->columns;
    c.actual_columns = y->columns;
    c.status = TableStatus::kMismatch;
    auto diff = x->digest.DifferingBuckets(y->digest);
    c.differing_buckets = diff.size();
    if (c.columns_differ) {
      c.not_located_reason = "the column lists differ";
    } else {
      // Two digests of different sizes compare at the coarser resolution.
      Collected col;
      col.bucket_count = x->digest.CommonBuckets(y->digest);
      col.buckets.insert(diff.begin(), diff.end());
      want_e[{c.schema, c.name}] = col;
      want_a[{c.schema, c.name}] = std::move(col);
    }
    report.tables.push_back(std::move(c));
  }

  report.partitions = CompareRollups(report);
  std::string reason;
  if (!want_e.empty()) {
    if (expected.kind() == SourceKind::kManifest || actual.kind() == SourceKind::kManifest) {
      reason = "a manifest holds digests, not rows: compare two readable sources to name the rows";
    } else {
      std::string too_many;
      if (options.progress != nullptr) options.progress->SetPhase("locating the differing rows");
      const double located = since_start();
      VOUCH_RETURN_IF_ERROR(CollectRows(expected, options.digest, want_e, options.max_diff_bytes, &too_many));
      if (too_many.empty()) {
        VOUCH_RETURN_IF_ERROR(CollectRows(actual, options.digest, want_a, options.max_diff_bytes, &too_many));
      }
      reason = too_many;
      report.phases.push_back({"locate differing rows", located, since_start() - located});
    }
    for (auto& t : report.tables) {
      auto it = want_e.find({t.schema, t.name});
      if (it == want_e.end()) continue;
      if (!reason.empty()) {
        t.not_located_reason = reason;
        continue;
      }
      Locate(t, it->second.rows, want_a[{t.schema, t.name}].rows, options.max_keys);
    }
  }
  for (auto& c : report.partitions) {
    if (c.differing_leaves.empty() || c.status == RollupStatus::kMissing || c.status == RollupStatus::kExtra) continue;
    if (!reason.empty()) {
      c.not_located_reason = reason;
    } else {
      LocateMoves(c, report, want_e, want_a, options.max_keys);
    }
  }
  return report;
}

}  // namespace vouch
