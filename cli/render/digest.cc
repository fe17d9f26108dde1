#include "render/digest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "render/kit.h"
#include "vouch/engine/partitions.h"
#include "vouch/engine/schema_compare.h"
#include "vouch/hashing/hex.h"

namespace vouch::cli {

namespace {

// The partitioned tables' roll-ups, after the leaves' table; nothing without partitions.
std::string RollupsText(const DigestReport& r) {
  auto rollups = PartitionRollups(r.tables);
  if (rollups.empty()) return "";
  std::string out = "\nPartitioned tables (the sum of their leaf partitions; not part of the final hash):\n";
  for (const auto& p : rollups) {
    out += fmt::format("  {}{}: {} leaf partitions, {} rows, {}\n", p.QualifiedName(), p.is_root ? "" : " (sub-partition)",
                       p.leaves.size(), GroupThousands(p.rows),
                       p.not_computed.empty() ? "content hash " + p.digest.ContentHashHex()
                                              : "not computed: " + p.not_computed);
  }
  return out;
}

// The totals, the tables that could not be hashed and the final hash, then
// the per-table rows and content hashes (a DR report's layout): every table,
// or as `list` says only those not hashed.
// "SCHEMA_VALIDATION_HASH: <hex> (N schema objects, ...)", or why there is none.
std::string SchemaHashLine(const DigestReport& r) {
  if (r.schema_not_selected) return "SCHEMA_VALIDATION_HASH: not computed (a table selection is in effect)\n";
  if (!r.schema || !r.schema->has_database_objects) {
    return "SCHEMA_VALIDATION_HASH: schema not in this source\n";
  }
  const SchemaCatalog& s = *r.schema;
  return fmt::format("SCHEMA_VALIDATION_HASH: {} ({} schema objects, {})\n",
                     SchemaValidationHash(&s, s.has_cluster_objects, s.has_database_settings), s.objects.size(),
                     s.has_cluster_objects ? "with cluster-wide objects" : "no cluster-wide objects");
}

std::string TablesText(const DigestReport& r, TableList list) {
  uint64_t total = 0;
  std::vector<const TableResult*> not_hashed;
  for (const auto& t : r.tables) {
    if (t.not_hashed.empty()) {
      total += t.digest.rows();
    } else {
      not_hashed.push_back(&t);
    }
  }
  std::string out = fmt::format("{} tables, {} rows\n", r.tables.size(), GroupThousands(total));
  for (const auto* t : not_hashed) out += fmt::format("Not hashed: {}: {}\n", t->QualifiedName(), t->not_hashed);
  if (r.large_objects && !r.large_objects->empty()) {
    const FinalLargeObjects d = r.LargeObjects();
    uint64_t bytes = 0;
    for (const auto& o : *r.large_objects) bytes += o.bytes;
    out += fmt::format("Large objects: {} ({} bytes), digest {} (part of FINAL_VALIDATION_HASH)\n",
                       GroupThousands(d.count), GroupThousands(bytes), HexEncode(d.digest.data(), d.digest.size()));
  }
  auto lo = r.source.properties.find("large_objects_without_data");
  if (lo != r.source.properties.end()) {
    out += fmt::format("Note: the dump defines {} large objects without their data (--schema-only?); they are not "
                       "digested\n", lo->second);
  }
  if (!r.Complete()) {
    out += fmt::format("FINAL_VALIDATION_HASH: not computed ({} tables could not be hashed)\n", not_hashed.size());
  } else {
    out += fmt::format("FINAL_VALIDATION_HASH: {}\n", r.FinalHashHex());
  }

  const bool every = ListsEveryTable(list, r.tables.size());
  std::vector<const TableResult*> shown;
  if (every) {
    for (const auto& t : r.tables) shown.push_back(&t);
  } else {
    shown = not_hashed;
  }
  out += "\n";
  if (!shown.empty()) {
    size_t wname = 5, wrows = 9;
    for (const auto* t : shown) {
      wname = std::max(wname, t->QualifiedName().size());
      wrows = std::max(wrows, GroupThousands(t->digest.rows()).size());
    }
    out += fmt::format("| {:<{}} | {:>{}} | {:<32} |\n", "Table", wname, "Row Count", wrows, "Content Hash");
    out += fmt::format("|{:-<{}}|{:->{}}|{:-<34}|\n", "", wname + 2, "", wrows + 2, "");
    for (const auto* t : shown) {
      if (!t->not_hashed.empty()) {
        out += fmt::format("| {:<{}} | {:>{}} | {:<32} |\n", t->QualifiedName(), wname, "-", wrows, "not computed");
      } else {
        out += fmt::format("| {:<{}} | {:>{}} | {} |\n", t->QualifiedName(), wname, GroupThousands(t->digest.rows()),
                           wrows, t->digest.ContentHashHex());
      }
    }
  }
  if (!every) out += LeftOutLine(r.tables.size() - not_hashed.size(), "hashed table") + "\n";
  out += RollupsText(r);
  return out;
}

std::string FkText(const ForeignKey& fk) {
  return fmt::format("{} ({}) → {} ({}){}", QualifiedTableName(fk.schema, fk.table), fmt::join(fk.columns, ", "),
                     QualifiedTableName(fk.ref_schema, fk.ref_table), fmt::join(fk.ref_columns, ", "),
                     fk.options.empty() ? "" : " " + fk.options);
}

}  // namespace

std::string SourceDescription(const SourceInfo& source) {
  std::string out = source.kind;
  auto v = source.properties.find("server_version");
  if (v != source.properties.end() && !v->second.empty()) {
    out += (out.empty() ? "" : ", ") + std::string("PostgreSQL ") + v->second.substr(0, v->second.find(' '));
  }
  auto at = source.properties.find("at_lsn");
  if (at != source.properties.end()) out += (out.empty() ? "" : ", ") + std::string("at LSN ") + at->second;
  return out;
}

std::string DigestSchemaText(const DigestReport& r) {
  return fmt::format("Source: {} ({})\n", r.source.location, SourceDescription(r.source)) + SchemaHashLine(r);
}

std::string DigestText(const DigestReport& r, TableList list) {
  std::string out = fmt::format("Source: {} ({}, compression {})\n", r.source.location, SourceDescription(r.source),
                                r.source.compression);
  auto ver = r.source.properties.find("pg_dump_version");
  if (ver != r.source.properties.end()) out += fmt::format("pg_dump version: {}\n", ver->second);
  out += SchemaHashLine(r);
  return out + "\n" + TablesText(r, list);
}

std::string ArchiveText(const ArchiveVerification& v, TableList list) {
  std::string out = fmt::format("Archive:  {}\n", v.path);
  if (v.toc_read) {
    const ArchiveFacts& f = v.facts;
    const ArchiveHeader& h = f.header;
    out += fmt::format("Format:   {}, archive version {}.{}.{}, compression {}\n", f.format, h.version_major,
                       h.version_minor, h.version_rev, h.compression);
    out += fmt::format("Database: {}, dumped {} (the dumping host's local time)\n", h.dbname, f.created);
    out += fmt::format("Versions: server {}, pg_dump {}\n", h.server_version, h.pg_dump_version);
    uint64_t entries = 0;
    std::vector<std::pair<uint64_t, std::string>> by_count;
    for (const auto& [desc, n] : f.entries_by_desc) {
      entries += n;
      by_count.emplace_back(n, desc);
    }
    std::stable_sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> parts;
    for (const auto& [n, desc] : by_count) parts.push_back(fmt::format("{} {}", n, desc));
    out += fmt::format("TOC:      {} entries ({}); TOC SHA-256 {}\n", entries, fmt::join(parts, ", "), f.toc_sha256);
    out += fmt::format(
        "Data:     {} table data entries in {} bytes of archive{}; {} large objects ({} bytes, not part of "
        "any table digest{})\n",
        f.table_data_entries, GroupThousands(f.archive_bytes),
        f.format == "custom" ? "" : fmt::format(" ({} data files)", f.data_files), GroupThousands(f.large_objects),
        GroupThousands(f.large_object_bytes), f.large_objects ? "; their hash " + f.large_object_sum.Hex() : "");
  }
  // The summary leads: the verdict, then the totals and the final hash.
  if (v.damage) {
    out += fmt::format("\nResult: ❌ DAMAGED: {}\n", v.damage->detail);
  } else if (!v.outcome().findings.empty()) {
    out += "\nResult: ❌ CHECKSUMS FAILED: the archive reads cleanly, but its checksum file does not vouch for it\n";
  } else if (!v.digest.Complete()) {
    out +=
        "\nResult: ⚠ NOT FULLY VERIFIED: every data block read and decompressed to its end, but the content of "
        "some tables could not be hashed (see \"Not hashed\")\n";
  } else {
    out += fmt::format("\nResult: ✅ VERIFIED: every data {} read and decompressed to its end, every row checked\n",
                       v.facts.format == "custom" ? "block" : "file");
  }
  if (!v.damage) out += TablesText(v.digest, list);
  if (v.toc_read) {
    const ArchiveFacts& f = v.facts;
    out += fmt::format("\nForeign keys ({}):\n", f.foreign_keys.size());
    for (const auto& fk : f.foreign_keys) out += "  " + FkText(fk) + "\n";
  }
  if (v.checksums) {
    const ChecksumReport& c = *v.checksums;
    out += fmt::format("\nChecksums ({}): {} of {} OK\n", c.sidecar, c.results.size() - c.Failed(), c.results.size());
    for (const auto& r : c.results) {
      out += fmt::format("  {:<10} {} ({}){}\n", ChecksumOutcomeName(r.outcome), r.entry.name,
                         HashAlgorithmName(r.entry.algorithm), r.error.empty() ? "" : ": " + r.error);
    }
    for (size_t line : c.malformed_lines) out += fmt::format("  warning: line {} is not a checksum line\n", line);
    if (c.results.empty()) out += "  no properly formatted checksum lines\n";
    for (const auto& f : v.not_covered)
      out += fmt::format("  NOT LISTED {} (the checksum file does not cover it)\n", f);
  }
  return out;
}

std::string ArchivePrometheus(const ArchiveVerification& v, double now) {
  std::ostringstream o;
  const std::string label = PromLabel("archive", v.path);
  auto metric = [&](const char* name, const char* help, const std::string& value) {
    WriteGauge(o, name, help, label, value);
  };
  uint64_t rows = 0;
  for (const auto& t : v.digest.tables) rows += t.digest.rows();
  metric("vouch_archive_verified", "1 when the archive was read to its end with no findings and every table hashed.",
         v.outcome().Verified() ? "1" : "0");
  metric("vouch_archive_tables", "Tables whose data the archive holds.", std::to_string(v.digest.tables.size()));
  metric("vouch_archive_rows", "Rows read and hashed.", std::to_string(rows));
  metric("vouch_archive_bytes", "Bytes of rows read (decompressed).", std::to_string(v.digest.bytes_read));
  metric("vouch_archive_findings", "Findings of the last verification.", std::to_string(v.outcome().findings.size()));
  metric("vouch_archive_verify_seconds", "Wall time of the last verification.", Num(v.digest.seconds, "%.3f"));
  metric("vouch_archive_last_run_timestamp_seconds", "Unix time the last verification finished.", Num(now, "%.3f"));
  return o.str();
}

std::string ArchiveJson(const ArchiveVerification& v, const std::string& manifest_json) {
  nlohmann::json j = {
      {"archive", v.path}, {"verified", v.outcome().findings.empty()}, {"damaged", v.damage.has_value()}};
  if (v.damage) j["damage"] = v.damage->detail;
  if (v.toc_read) {
    const ArchiveFacts& f = v.facts;
    const ArchiveHeader& h = f.header;
    nlohmann::json fks = nlohmann::json::array();
    for (const auto& fk : f.foreign_keys) {
      fks.push_back({{"name", fk.name},
                     {"table", QualifiedTableName(fk.schema, fk.table)},
                     {"columns", fk.columns},
                     {"references", QualifiedTableName(fk.ref_schema, fk.ref_table)},
                     {"ref_columns", fk.ref_columns},
                     {"options", fk.options}});
    }
    j["metadata"] = {{"format", f.format},
                     {"archive_version", fmt::format("{}.{}.{}", h.version_major, h.version_minor, h.version_rev)},
                     {"compression", h.compression},
                     {"database", h.dbname},
                     {"created_local_time", f.created},
                     {"server_version", h.server_version},
                     {"pg_dump_version", h.pg_dump_version},
                     {"toc_entries_by_type", f.entries_by_desc},
                     {"toc_sha256", f.toc_sha256},
                     {"table_data_entries", f.table_data_entries},
                     {"archive_bytes", f.archive_bytes},
                     {"data_files", f.data_files},
                     {"large_objects", f.large_objects},
                     {"large_object_bytes", f.large_object_bytes},
                     {"large_object_hash", f.large_object_sum.Hex()},
                     {"foreign_keys", fks}};
  }
  j["content_complete"] = v.ContentComplete();
  if (!manifest_json.empty()) j["manifest"] = nlohmann::json::parse(manifest_json);
  nlohmann::json not_hashed = nlohmann::json::object();
  for (const auto& t : v.digest.tables) {
    if (!t.not_hashed.empty()) not_hashed[t.QualifiedName()] = t.not_hashed;
  }
  if (!not_hashed.empty()) j["not_hashed"] = not_hashed;
  if (v.checksums) {
    nlohmann::json lines = nlohmann::json::array();
    for (const auto& r : v.checksums->results) {
      lines.push_back({{"line", r.entry.line},
                       {"file", r.entry.name},
                       {"path", r.path},
                       {"algorithm", HashAlgorithmName(r.entry.algorithm)},
                       {"expected", r.entry.hex},
                       {"actual", r.actual},
                       {"status", ChecksumOutcomeName(r.outcome)},
                       {"error", r.error}});
    }
    j["checksums"] = {{"file", v.checksums->sidecar},
                      {"ok", v.checksums->AllOk()},
                      {"lines", lines},
                      {"malformed_lines", v.checksums->malformed_lines},
                      {"not_covered", v.not_covered}};
  }
  return j.dump(2) + "\n";
}

// The partitioned tables' roll-ups compared; nothing without partitions.
std::string RollupComparisonText(const CompareReport& r) {
  if (r.partitions.empty()) return "";
  std::string out = "\nPartitioned tables (roll-ups of their leaf partitions):\n";
  for (const auto& p : r.partitions) {
    std::string what;
    switch (p.status) {
      case RollupStatus::kMatch: what = "✅ MATCH"; break;
      case RollupStatus::kMoved:
        what = fmt::format("⚠ MOVED: same rows, different partitions (the roll-ups match; {} of the leaves differ)",
                           p.differing_leaves.size());
        break;
      case RollupStatus::kMismatch:
        what = p.not_computed.empty() ? "❌ MISMATCH" : "❌ MISMATCH (roll-up not computed: " + p.not_computed + ")";
        break;
      case RollupStatus::kMissing: what = "❌ MISSING"; break;
      case RollupStatus::kExtra: what = "❌ EXTRA"; break;
    }
    out += fmt::format("  {}: {} leaves expected, {} actual; {} rows expected, {} actual: {}\n", p.QualifiedName(),
                       p.expected_leaves, p.actual_leaves, GroupThousands(p.expected_rows),
                       GroupThousands(p.actual_rows), what);
    if (p.differing_leaves.empty() || p.status == RollupStatus::kMissing || p.status == RollupStatus::kExtra) continue;
    if (!p.moves_located) {
      out += fmt::format("    moved rows not located: {}\n", p.not_located_reason);
      continue;
    }
    if (p.moved == 0) continue;
    out += fmt::format("    {} {} moved between its leaf partitions:\n", GroupThousands(p.moved),
                       p.moved == 1 ? "row" : "rows");
    for (const auto& k : p.moved_keys) out += fmt::format("    moved    {}\n", k);
    if (p.moved > p.moved_keys.size()) {
      out += fmt::format("    ... and {} more moved\n", GroupThousands(p.moved - p.moved_keys.size()));
    }
  }
  return out;
}

std::string TableStatusCounts(const std::vector<TableComparison>& tables) {
  size_t n[4] = {};
  for (const auto& t : tables) ++n[static_cast<size_t>(t.status)];
  return fmt::format("{} tables: {} match, {} mismatch, {} missing, {} extra", GroupThousands(tables.size()),
                     GroupThousands(n[static_cast<size_t>(TableStatus::kMatch)]),
                     GroupThousands(n[static_cast<size_t>(TableStatus::kMismatch)]),
                     GroupThousands(n[static_cast<size_t>(TableStatus::kMissing)]),
                     GroupThousands(n[static_cast<size_t>(TableStatus::kExtra)]));
}

std::string LargeObjectsLeftOut(const CompareReport& c, std::string_view expected, std::string_view actual) {
  const auto& e = c.expected.large_objects_left_out;
  const auto& a = c.actual.large_objects_left_out;
  if (!e || !a) return "";
  return fmt::format("{} in the {}, {} in the {}", GroupThousands(*e), expected, GroupThousands(*a), actual);
}

std::string RowsOnlyHashNote(const CompareReport& c, std::string_view expected, std::string_view actual) {
  const auto& e = c.expected.large_objects_left_out;
  const auto& a = c.actual.large_objects_left_out;
  if (!e || !a) return "it leaves out the large objects, if there are any (a side does not tell them)";
  if (*e == 0 && *a == 0) return "neither side has large objects, so it is the hash a read of everything gives";
  return "it leaves out the large objects (" + LargeObjectsLeftOut(c, expected, actual) + ")";
}

nlohmann::ordered_json LargeObjectsLeftOutJson(const DigestReport& d) {
  return d.large_objects_left_out ? nlohmann::ordered_json(*d.large_objects_left_out) : nlohmann::ordered_json(nullptr);
}

std::string CompareText(const CompareReport& r, TableList list) {
  std::string out =
      fmt::format("Expected: {} ({})\nActual:   {} ({})\n", r.expected.source.location,
                  SourceDescription(r.expected.source), r.actual.source.location, SourceDescription(r.actual.source));
  // The summary leads: the verdict, the totals and both final hashes.
  uint64_t expected_rows = 0, actual_rows = 0;
  size_t bad = 0;
  for (const auto& t : r.tables) {
    expected_rows += t.expected_rows;
    actual_rows += t.actual_rows;
    if (t.status != TableStatus::kMatch) ++bad;
  }
  out += bad == 0 ? fmt::format("\nResult: ✅ all {} tables match\n", r.tables.size())
                  : fmt::format("\nResult: ❌ {} of {} tables differ\n", bad, r.tables.size());
  out += TableStatusCounts(r.tables) + "\n";
  out += fmt::format("Rows: {} expected, {} actual\n", GroupThousands(expected_rows), GroupThousands(actual_rows));
  bool same = r.expected.final_hash == r.actual.final_hash;
  out += fmt::format("FINAL_VALIDATION_HASH expected: {}\nFINAL_VALIDATION_HASH actual:   {}  {}\n",
                     r.expected.FinalHashHex(), r.actual.FinalHashHex(), same ? "✅ MATCH" : "❌ MISMATCH");
  if (r.expected.rows_only || r.actual.rows_only) {
    out += "Rows only (--rows-only): sequences and large objects not compared\n";
    out += fmt::format("FINAL_VALIDATION_HASH covers the tables only: {}\n",
                       RowsOnlyHashNote(r, "expected source", "actual source"));
  }

  // Every table, or only those that differ.
  const bool every = ListsEveryTable(list, r.tables.size());
  std::vector<const TableComparison*> shown;
  for (const auto& t : r.tables) {
    if (every || t.status != TableStatus::kMatch) shown.push_back(&t);
  }
  size_t wname = 5, wrows = 13;
  for (const auto* t : shown) wname = std::max(wname, t->QualifiedName().size());
  out += "\n";
  if (!shown.empty()) {
    out += fmt::format("| {:<{}} | {:>{}} | {:>{}} | {:<32} | {:<11} |\n", "Table", wname, "Expected Rows", wrows,
                       "Actual Rows", wrows, "Content Hash (actual)", "Status");
    out += fmt::format("|{:-<{}}|{:->{}}|{:->{}}|{:-<34}|{:-<13}|\n", "", wname + 2, "", wrows + 2, "", wrows + 2, "",
                       "");
  }
  for (const auto* t : shown) {
    bool ok = t->status == TableStatus::kMatch;
    std::string exp = t->status == TableStatus::kExtra ? "-" : GroupThousands(t->expected_rows);
    std::string act = t->status == TableStatus::kMissing ? "-" : GroupThousands(t->actual_rows);
    std::string hash = t->status == TableStatus::kMissing ? "-" : t->actual_hash.Hex();
    out += fmt::format("| {:<{}} | {:>{}} | {:>{}} | {:<32} | {} {:<8} |\n", t->QualifiedName(), wname, exp, wrows,
                       act, wrows, hash, ok ? "✅" : "❌", TableStatusName(t->status));
  }
  if (!every) out += LeftOutLine(r.tables.size() - bad, "matching table") + "\n";
  for (const auto& t : r.tables) {
    if (t.status != TableStatus::kMismatch) continue;
    out += fmt::format("\n{}: ", t.QualifiedName());
    if (t.columns_differ) {
      out += fmt::format("schema differs: columns ({}) expected, ({}) actual\n", fmt::join(t.expected_columns, ", "),
                         fmt::join(t.actual_columns, ", "));
      continue;
    }
    if (!t.rows_located) {
      out += fmt::format("{} of the bucket sums differ; rows not located: {}\n", t.differing_buckets,
                         t.not_located_reason);
      continue;
    }
    out += fmt::format("{} missing, {} extra, {} changed ({})\n", GroupThousands(t.missing), GroupThousands(t.extra),
                       GroupThousands(t.changed),
                       t.key_columns.empty() ? std::string("no key: whole rows shown")
                                             : "key " + fmt::format("{}", fmt::join(t.key_columns, ", ")));
    auto key_list = [&](const char* what, const std::vector<std::string>& keys, uint64_t total) {
      for (const auto& k : keys) out += fmt::format("  {:<8} {}\n", what, k);
      if (total > keys.size()) out += fmt::format("  ... and {} more {}\n", GroupThousands(total - keys.size()), what);
    };
    key_list("missing", t.missing_keys, t.missing);
    key_list("extra", t.extra_keys, t.extra);
    key_list("changed", t.changed_keys, t.changed);
  }
  out += RollupComparisonText(r);
  // Sequences that differ (or are ahead: a note) and large objects.
  for (const auto& q : r.sequences) {
    if (!q.Failed() && q.state != SequenceState::kAhead) continue;
    std::string what = q.missing ? "missing" : q.extra ? "extra" : "";
    if (q.definition_differs) what = fmt::format("definition {} → {}", q.expected_definition, q.actual_definition);
    if (q.state == SequenceState::kBehind || q.state == SequenceState::kAhead) {
      what += fmt::format("{}{} by {} (last_value {} expected, {} actual){}", what.empty() ? "" : "; ",
                          SequenceStateName(q.state), GroupThousands(q.distance), q.expected_last, q.actual_last,
                          q.state == SequenceState::kAhead ? ": a note" : "");
    }
    out += fmt::format("\nSequence {} {}: {}\n", q.QualifiedName(), q.Failed() ? "❌" : "ℹ️", what);
  }
  const LargeObjectsComparison& lo = r.large_objects;
  if (lo.compared && !lo.Passed()) {
    auto oids = [](const std::vector<std::string>& v, uint64_t n) {
      return fmt::format("{}{}", fmt::join(v, ", "), n > v.size() ? fmt::format(", ... {} more", n - v.size()) : "");
    };
    out += fmt::format("\nLarge objects ❌: {} expected, {} actual", GroupThousands(lo.expected_count),
                       GroupThousands(lo.actual_count));
    if (lo.missing) out += fmt::format("; missing {}", oids(lo.missing_oids, lo.missing));
    if (lo.extra) out += fmt::format("; extra {}", oids(lo.extra_oids, lo.extra));
    if (lo.changed) out += fmt::format("; changed {}", oids(lo.changed_oids, lo.changed));
    out += "\n";
  }
  return out;
}


nlohmann::ordered_json TableComparisonJson(const TableComparison& t) {
  nlohmann::ordered_json j = {
      {"schema", t.schema},
      {"name", t.name},
      {"table", t.QualifiedName()},
      {"status", TableStatusName(t.status)},
      {"match", t.status == TableStatus::kMatch},
      {"expected_rows", t.expected_rows},
      {"actual_rows", t.actual_rows},
      {"row_delta", static_cast<int64_t>(t.actual_rows) - static_cast<int64_t>(t.expected_rows)},
      {"expected_content_hash", t.expected_hash.Hex()},
      {"actual_content_hash", t.actual_hash.Hex()},
      {"expected_sum", t.expected_hash.empty() ? std::string() : t.expected_sum.Hex()},
      {"actual_sum", t.actual_hash.empty() ? std::string() : t.actual_sum.Hex()},
      {"key", t.key_columns}};
  if (t.status == TableStatus::kMismatch) {
    j["columns_differ"] = t.columns_differ;
    if (t.columns_differ) {
      j["expected_columns"] = t.expected_columns;
      j["actual_columns"] = t.actual_columns;
    }
    j["differing_buckets"] = t.differing_buckets;
    j["rows_located"] = t.rows_located;
    if (!t.rows_located) j["not_located_reason"] = t.not_located_reason;
    j["missing"] = {{"count", t.missing}, {"keys", t.missing_keys}};
    j["extra"] = {{"count", t.extra}, {"keys", t.extra_keys}};
    j["changed"] = {{"count", t.changed}, {"keys", t.changed_keys}};
  }
  return j;
}

nlohmann::ordered_json SequencesJson(const CompareReport& c) {
  using J = nlohmann::ordered_json;
  J list = J::array();
  for (const auto& s : c.sequences) {
    J o = {{"schema", s.schema}, {"name", s.name}};
    o["status"] = s.missing ? "missing" : s.extra ? "extra" : SequenceStateName(s.state);
    o["failed"] = s.Failed();
    o["definition_differs"] = s.definition_differs;
    if (s.definition_differs) o["definition"] = {{"source", s.expected_definition}, {"restored", s.actual_definition}};
    if (!s.missing && !s.extra && s.state != SequenceState::kNotCompared) {
      o["last_value"] = {{"source", s.expected_last}, {"restored", s.actual_last}};
      o["is_called"] = {{"source", s.expected_called}, {"restored", s.actual_called}};
      o["distance"] = s.distance;
    }
    list.push_back(std::move(o));
  }
  return {{"compared", c.sequences_compared}, {"not_compared", c.sequences_not_compared}, {"sequences", list}};
}

nlohmann::ordered_json LargeObjectsJson(const LargeObjectsComparison& lo) {
  return {{"compared", lo.compared},
          {"not_compared", lo.not_compared},
          {"source", {{"count", lo.expected_count}, {"digest", lo.expected_digest}}},
          {"restored", {{"count", lo.actual_count}, {"digest", lo.actual_digest}}},
          {"passed", lo.Passed()},
          {"missing", lo.missing},
          {"extra", lo.extra},
          {"changed", lo.changed},
          {"missing_oids", lo.missing_oids},
          {"extra_oids", lo.extra_oids},
          {"changed_oids", lo.changed_oids}};
}

std::string CompareJson(const CompareReport& r) {
  nlohmann::ordered_json tables = nlohmann::ordered_json::array();
  for (const auto& t : r.tables) tables.push_back(TableComparisonJson(t));
  nlohmann::ordered_json j = {
      {"expected", {{"source", r.expected.source.location}, {"final_validation_hash", r.expected.FinalHashHex()}}},
      {"actual", {{"source", r.actual.source.location}, {"final_validation_hash", r.actual.FinalHashHex()}}},
      {"match", r.outcome().Verified()},
      {"tables", tables}};
  if (r.expected.rows_only || r.actual.rows_only) {
    // Said only when asked for: sequences and large objects not compared,
    // and the final hashes over the tables alone.
    j["rows_only"] = true;
    j["expected"]["large_objects_left_out"] = LargeObjectsLeftOutJson(r.expected);
    j["actual"]["large_objects_left_out"] = LargeObjectsLeftOutJson(r.actual);
    j["sequences"] = SequencesJson(r);
    j["large_objects"] = LargeObjectsJson(r.large_objects);
  }
  // Present when a side has sequences or large objects to compare.
  if (!r.sequences.empty()) j["sequences"] = SequencesJson(r);
  if (r.large_objects.expected_count > 0 || r.large_objects.actual_count > 0) {
    j["large_objects"] = LargeObjectsJson(r.large_objects);
  }
  if (!r.partitions.empty()) {
    nlohmann::ordered_json parts = nlohmann::ordered_json::array();
    for (const auto& p : r.partitions) {
      nlohmann::ordered_json o = {{"schema", p.schema},
                                  {"name", p.name},
                                  {"table", p.QualifiedName()},
                                  {"status", RollupStatusName(p.status)},
                                  {"same_rows_different_partitions", p.status == RollupStatus::kMoved},
                                  {"expected_leaves", p.expected_leaves},
                                  {"actual_leaves", p.actual_leaves},
                                  {"expected_rows", p.expected_rows},
                                  {"actual_rows", p.actual_rows},
                                  {"expected_content_hash", p.expected_hash},
                                  {"actual_content_hash", p.actual_hash},
                                  {"differing_leaves", p.differing_leaves}};
      if (!p.not_computed.empty()) o["not_computed"] = p.not_computed;
      if (!p.differing_leaves.empty()) {
        o["moves_located"] = p.moves_located;
        if (!p.moves_located) o["not_located_reason"] = p.not_located_reason;
        o["moved"] = {{"count", p.moved}, {"keys", p.moved_keys}};
      }
      parts.push_back(std::move(o));
    }
    j["partitioned"] = parts;
  }
  return j.dump(2) + "\n";
}

std::string RunStats(const DigestReport& r) {
  double mb = static_cast<double>(r.bytes_read) / 1e6;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);  // ru_maxrss: peak resident set, KiB on Linux
  return fmt::format("vouch: read {:.1f} MB of rows in {:.2f} s ({:.0f} MB/s) with {} jobs; peak RSS {:.0f} MB\n", mb,
                     r.seconds, r.seconds > 0 ? mb / r.seconds : 0.0, r.jobs, static_cast<double>(ru.ru_maxrss) / 1024);
}

}  // namespace vouch::cli
