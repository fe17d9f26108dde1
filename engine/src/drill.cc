#include "vouch/engine/drill.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "drill/row_check.h"
#include "vouch/engine/source.h"
#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/hex.h"

namespace vouch {
namespace {

// The final hash of one side: every table's digest and, with `chains`, every
// verified chain's head (decoded digest bytes when the head is hex) and length.
std::string FinalHash(const DigestReport& d, const SourceChecks& checks, bool with_chains) {
  std::vector<FinalChainEntry> chains;
  for (const auto& c : with_chains ? checks.chains : std::vector<ChainCheck>{}) {
    if (!c.found || !c.error.empty()) continue;
    auto [schema, table] = ChainTableName(c.spec);
    std::string head = c.result.head_hash;
    if (auto raw = HexDecode(head)) head = *raw;
    chains.push_back({std::move(schema), std::move(table), std::move(head), c.result.entries});
  }
  Sha256Digest h = d.FinalHashWith(std::move(chains));
  return HexEncode(h.data(), h.size());
}

// The report's lines beyond the row checks (which judge their own): content
// table by table first, RPO, RTO and the final hash last. Facts only;
// cli/render/drill.cc words them.
void ContentChecks(DrillReport& r) {
  // One check a table, and a few dozen others: at 100,000 tables, growing
  // the list by doubling would hold it twice at its last step.
  r.checks.reserve(r.checks.size() + r.compare.tables.size() + 64);
  for (size_t i = 0; i < r.compare.tables.size(); ++i) {
    const TableComparison& t = r.compare.tables[i];
    r.checks.push_back({"Data Integrity", t.QualifiedName() + " content", t.status == TableStatus::kMatch,
                        DrillSubject::kContent, i,
                        drill::Facts({{"expected_rows", t.expected_rows},
                                      {"actual_rows", t.actual_rows},
                                      {"missing", t.missing},
                                      {"extra", t.extra},
                                      {"changed", t.changed}})});
  }
}

// Sequences: each one compared (behind, redefined, missing or extra fails;
// ahead is a note), then each side's sequences against the columns they
// feed; large objects. One passing line stands for all when none fails.
void SequenceChecks(DrillReport& r) {
  const CompareReport& c = r.compare;
  if (c.sequences_compared) {
    size_t failed = 0;
    for (size_t i = 0; i < c.sequences.size(); ++i) {
      const SequenceComparison& s = c.sequences[i];
      if (!s.Failed()) continue;
      ++failed;
      r.checks.push_back({"Sequences", s.QualifiedName(), false, DrillSubject::kSequence, i,
                          drill::Facts({{"missing", s.missing},
                                        {"extra", s.extra},
                                        {"definition_differs", s.definition_differs},
                                        {"behind", s.state == SequenceState::kBehind},
                                        {"distance", s.distance}})});
    }
    if (failed == 0 && !c.sequences.empty()) {
      r.checks.push_back({"Sequences", "sequences", true, DrillSubject::kSequences, 0,
                          drill::Facts({{"sequences", c.sequences.size()}})});
    }
  }
  auto side = [&](const DigestReport& d, const SourceChecks& checks, bool restored) {
    if (!d.sequences) return;
    std::map<RelationName, const SequenceInfo*> by_name;
    for (const SequenceInfo& s : *d.sequences) by_name[{s.schema, s.name}] = &s;
    for (const FedColumn& f : checks.fed_columns) {
      if (!f.found || f.values == 0) continue;
      SequenceColumnCheck k;
      k.restored = restored;
      k.column = f;
      auto it = by_name.find(f.sequence);
      if (it != by_name.end() && it->second->has_state) {
        const SequenceInfo& s = *it->second;
        // A descending sequence feeds values below its column's: only
        // ascending ones (or of unknown direction) are checked.
        if (s.has_definition && s.increment < 0) continue;
        k.has_state = true;
        k.exhausted = !s.NextValue(&k.next);
      }
      r.sequence_columns.push_back(std::move(k));
    }
  };
  side(c.expected, r.source_checks, false);
  side(c.actual, r.restored_checks, true);
  size_t failed = 0;
  for (size_t i = 0; i < r.sequence_columns.size(); ++i) {
    const SequenceColumnCheck& k = r.sequence_columns[i];
    if (k.Passed()) continue;
    ++failed;
    r.checks.push_back({"Sequences",
                        QualifiedTableName(k.column.sequence.schema, k.column.sequence.name) + " behind " +
                            k.column.column.Qualified() + (k.restored ? " (restored)" : " (source)"),
                        false, DrillSubject::kSequenceColumn, i,
                        "next=" + std::to_string(k.next) + " column_max=" + std::to_string(k.column.max) +
                            " exhausted=" + std::to_string(k.exhausted)});
  }
  if (failed == 0 && !r.sequence_columns.empty()) {
    r.checks.push_back({"Sequences", "sequences ahead of their columns", true, DrillSubject::kSequenceColumns, 0,
                        drill::Facts({{"columns", r.sequence_columns.size()}})});
  }
  const LargeObjectsComparison& lo = c.large_objects;
  if (lo.compared && (lo.expected_count > 0 || lo.actual_count > 0)) {
    r.checks.push_back({"Large Objects", "large objects", lo.Passed(), DrillSubject::kLargeObjects, 0,
                        drill::Facts({{"expected", lo.expected_count},
                                      {"actual", lo.actual_count},
                                      {"missing", lo.missing},
                                      {"extra", lo.extra},
                                      {"changed", lo.changed}})});
  }
}

// One check per kind of schema object compared, and the schema hash.
void SchemaChecks(DrillReport& r) {
  if (!r.schema.compared) return;
  for (size_t i = 0; i < r.schema.kinds.size(); ++i) {
    const SchemaKindComparison& k = r.schema.kinds[i];
    r.checks.push_back({"Schema Objects", k.kind, k.missing + k.extra + k.changed == 0, DrillSubject::kSchemaKind, i,
                        drill::Facts({{"compared", k.compared},
                                      {"missing", k.missing},
                                      {"extra", k.extra},
                                      {"changed", k.changed},
                                      {"by_presence", k.by_presence}})});
  }
}

void SchemaHashCheck(DrillReport& r) {
  if (!r.schema.compared) return;
  const bool same = r.source_schema_hash == r.restored_schema_hash;
  r.checks.push_back({"Schema Validation Hash", "SCHEMA_VALIDATION_HASH", same, DrillSubject::kSchemaHash, 0,
                      drill::Facts({{"equal", same}, {"cluster", r.schema_hash_with_cluster}})});
}

// A dump side's cluster-wide objects, from its globals file (none without
// one).
Result<std::optional<SchemaCatalog>> ReadGlobals(const std::string& path, const Source& side) {
  if (path.empty()) return std::optional<SchemaCatalog>();
  if (side.kind() == SourceKind::kDatabase) {
    return InvalidArgument(path + ": a globals file is for a dump; the database " + side.spec() +
                           " has its roles in its catalogs");
  }
  auto globals = ParseGlobalsFile(path);
  if (!globals.ok()) return globals.status();
  return std::optional<SchemaCatalog>(std::move(globals).value());
}

// The two sides' schema objects, compared and hashed as soon as both are
// read, and then let go: at 100,000 tables the two catalogs are the largest
// thing a drill holds. A database and an archive hand theirs over while the
// rows are still read (DigestOptions::schema_sink); a side that has them
// only at its end (a plain dump, a manifest) gives them after the digests.
class SchemaMeet {
 public:
  SchemaMeet(DrillReport& r, bool not_compared_for_filter, std::array<std::optional<SchemaCatalog>, 2> globals)
      : r_(r), for_filter_(not_compared_for_filter), globals_(std::move(globals)) {}

  TableStreamReader::SchemaSink Sink(int side) {
    return [this, side](SchemaCatalog&& c) {
      std::lock_guard lock(mu_);
      if (compared_) return;  // not after Finish
      held_[side] = std::move(c);
      if (held_[0] && held_[1]) CompareHeld();
    };
  }

  // After the digests: what the reports hold stands for what was not
  // handed over.
  void Finish(CompareReport& c) {
    std::lock_guard lock(mu_);
    DigestReport* reports[2] = {&c.expected, &c.actual};
    for (int side = 0; side < 2; ++side) {
      if (!compared_ && !held_[side] && reports[side]->schema) held_[side] = std::move(reports[side]->schema);
      reports[side]->schema.reset();
    }
    if (!compared_) CompareHeld();
  }

 private:
  void CompareHeld() {
    for (int side = 0; side < 2; ++side) {
      if (!globals_[side]) continue;
      if (!held_[side]) {
        held_[side].emplace();
        held_[side]->origin = "dump";
      }
      held_[side]->MergeCluster(*globals_[side]);
      globals_[side].reset();
    }
    const SchemaCatalog* e = held_[0] ? &*held_[0] : nullptr;
    const SchemaCatalog* a = held_[1] ? &*held_[1] : nullptr;
    r_.schema = CompareSchemas(e, a);
    if (r_.rows_only) {
      r_.schema = SchemaComparison();
      r_.schema.not_compared = "--rows-only";
    } else if (for_filter_) {
      r_.schema = SchemaComparison();
      r_.schema.not_compared = "a table selection (-t/-n/-T/-N) is in effect";
    }
    r_.schema_hash_with_cluster = e && a && e->has_cluster_objects && a->has_cluster_objects;
    const bool db_settings = e && a && e->has_database_settings && a->has_database_settings;
    r_.source_schema_hash = SchemaValidationHash(e, r_.schema_hash_with_cluster, db_settings);
    r_.restored_schema_hash = SchemaValidationHash(a, r_.schema_hash_with_cluster, db_settings);
    held_[0].reset();
    held_[1].reset();
    compared_ = true;
  }

  DrillReport& r_;
  const bool for_filter_;
  std::array<std::optional<SchemaCatalog>, 2> globals_;
  std::mutex mu_;
  std::array<std::optional<SchemaCatalog>, 2> held_;
  bool compared_ = false;
};

void ObjectiveChecks(DrillReport& r) {
  auto objective = [&](const char* name, DrillSubject subject, const std::optional<int64_t>& v,
                       const std::optional<int64_t>& target) {
    if (!target) return;
    std::string facts =
        (v ? "us=" + std::to_string(*v) : std::string("measured=0")) + " target_us=" + std::to_string(*target);
    if (const TableLag* w = subject == DrillSubject::kRpo ? r.WorstLoss() : nullptr) {
      facts += " table=" + w->QualifiedName();
    }
    r.checks.push_back({name, name, v && *v <= *target, subject, 0, std::move(facts)});
  };
  objective("RPO", DrillSubject::kRpo, r.rpo_us, r.rpo_target_us);
  objective("RTO", DrillSubject::kRto, r.rto_us, r.rto_target_us);
  bool complete = r.compare.expected.Complete() && r.compare.actual.Complete();
  r.checks.push_back({"Final Validation Hash", "FINAL_VALIDATION_HASH",
                      complete && r.source_final_hash == r.restored_final_hash, DrillSubject::kFinalHash, 0,
                      drill::Facts({{"complete", complete}, {"equal", r.source_final_hash == r.restored_final_hash}})});
}

}  // namespace

Outcome DrillReport::outcome() const {
  Outcome o;
  if (checks.empty()) o.findings.push_back({FindingKind::kCheckFailed, "drill", "no check was made"});
  for (const auto& c : checks) {
    if (!c.passed) o.findings.push_back({FindingKind::kCheckFailed, c.section + ": " + c.name, c.facts});
  }
  return o;
}

namespace {

// Each table's lag (TableLag): both sides' temporal results are sorted by
// (schema, name), so one merge walk pairs them.
std::vector<TableLag> TableLags(const SourceChecks& source, const SourceChecks& restored) {
  std::vector<TableLag> lags;
  auto by_name = [](const TableTemporal& a, const TableTemporal& b) {
    return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
  };
  auto r = restored.temporal.begin();
  for (const TableTemporal& s : source.temporal) {
    const TimeColumnStats* rec = s.record();
    if (rec == nullptr || rec->values == 0) continue;
    while (r != restored.temporal.end() && by_name(*r, s)) ++r;
    TableLag lag{s.schema, s.name, s.record_column, rec->max_us, std::nullopt, rec->max_us - rec->min_us};
    if (r != restored.temporal.end() && !by_name(s, *r)) {
      for (const TimeColumnStats& c : r->columns) {
        if (c.column != s.record_column || c.values == 0) continue;
        lag.restored_latest_us = c.max_us;
        lag.lag_us = std::max<int64_t>(0, rec->max_us - c.max_us);
      }
    }
    lags.push_back(std::move(lag));
  }
  std::stable_sort(lags.begin(), lags.end(), [](const TableLag& a, const TableLag& b) { return a.lag_us > b.lag_us; });
  return lags;
}

}  // namespace

std::string TableLag::QualifiedName() const { return QualifiedTableName(schema, name); }

Result<DrillReport> RunDrill(const std::string& source, const std::string& restored, const DrillOptions& options) {
  auto start = std::chrono::steady_clock::now();
  // Both opened at once, as Compare opens them: a database's catalog queries
  // and an archive's TOC take a while.
  Result<std::unique_ptr<Source>> s = Status(StatusCode::kIoError, "not run");
  std::thread other([&] { s = OpenSource(source, options.compare.digest); });
  auto t = OpenSource(restored, options.compare.digest);
  other.join();
  if (!s.ok()) return s.status();
  if (!t.ok()) return t.status();
  return RunDrill(**s, **t, options, start);
}

Result<DrillReport> RunDrill(Source& source_side, Source& restored_side, const DrillOptions& options,
                             std::chrono::steady_clock::time_point start) {
  const std::string& source = source_side.spec();
  const std::string& restored = restored_side.spec();
  DrillReport r;
  r.source = source;
  r.restored = restored;
  CheckOptions checks = options.checks;
  if (checks.now_us == 0) {
    checks.now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
  }
  r.now_us = checks.now_us;
  r.recovery_window = checks.recovery_window;
  r.rpo_target_us = options.rpo_target_us;
  r.rto_target_us = options.rto_target_us;
  r.rows_only = options.compare.digest.rows_only;
  if (options.amcheck && restored_side.kind() != SourceKind::kDatabase) {
    return InvalidArgument("--amcheck checks the indexes of a database: the restored side " + restored + " is not one");
  }
  if (r.rows_only) {
    if (!options.source_globals.empty() || !options.restored_globals.empty()) {
      return InvalidArgument("--globals and --restored-globals give cluster-wide schema objects, which --rows-only "
                             "does not compare");
    }
    checks.sequence_columns = false;  // no sequence is compared
  }
  // Each side also checks the other's foreign keys (a restore that lost a
  // constraint is checked against the source's).
  CheckOptions source_checks = checks, restored_checks = checks;
  // The two sides are read at once: each keeps within half the budget.
  source_checks.memory_limit = restored_checks.memory_limit = checks.memory_limit / 2;
  if (checks.catalog_fks) {
    if (const auto* fks = source_side.foreign_keys()) restored_checks.other_side_fks = *fks;
    if (const auto* fks = restored_side.foreign_keys()) source_checks.other_side_fks = *fks;
  }
  DrillObserver source_obs(source_checks), restored_obs(restored_checks);
  CompareOptions cmp = options.compare;
  cmp.expected_observer = &source_obs;
  cmp.actual_observer = &restored_obs;
  auto source_globals = ReadGlobals(options.source_globals, source_side);
  if (!source_globals.ok()) return source_globals.status();
  auto restored_globals = ReadGlobals(options.restored_globals, restored_side);
  if (!restored_globals.ok()) return restored_globals.status();
  SchemaMeet meet(r, !options.compare.digest.filter.empty(),
                  {std::move(source_globals).value(), std::move(restored_globals).value()});
  cmp.expected_schema_sink = meet.Sink(0);
  cmp.actual_schema_sink = meet.Sink(1);
  cmp.after_digests = [&](CompareReport& c) -> Status {
    meet.Finish(c);
    return Status::Ok();
  };
  auto since_start = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const double compare_start = since_start();
  r.phases.push_back({"open", 0, compare_start});
  auto compared = Compare(source_side, restored_side, cmp);
  if (!compared.ok()) return compared.status();
  r.compare = std::move(compared).value();
  for (RunPhase p : r.compare.phases) {
    if (p.name == "read expected") p.name = "read source";
    if (p.name == "read actual") p.name = "read restored";
    p.start_s += compare_start;
    r.phases.push_back(std::move(p));
  }
  const double checks_start = since_start();
  if (options.compare.progress != nullptr) options.compare.progress->SetPhase("checks");
  r.source = r.compare.expected.source.location.empty() ? source : r.compare.expected.source.location;
  r.restored = r.compare.actual.source.location.empty() ? restored : r.compare.actual.source.location;

  auto side = [&](DrillObserver& obs, Source& src, const DigestReport& digest) -> Result<SourceChecks> {
    if (src.kind() == SourceKind::kManifest) {
      SourceChecks none;
      none.not_run_reason = "a manifest holds digests, not rows";
      return none;
    }
    return obs.Finish(&src, cmp.digest, &digest);
  };
  auto sc = side(source_obs, source_side, r.compare.expected);
  if (!sc.ok()) return sc.status();
  r.source_checks = std::move(sc).value();
  auto rc = side(restored_obs, restored_side, r.compare.actual);
  if (!rc.ok()) return rc.status();
  r.restored_checks = std::move(rc).value();

  // Chain heads count only when both sides read their rows (a manifest has
  // digests, not chains): else equal data would give different hashes.
  const bool chains = r.source_checks.ran && r.restored_checks.ran;
  r.source_final_hash = FinalHash(r.compare.expected, r.source_checks, chains);
  r.restored_final_hash = FinalHash(r.compare.actual, r.restored_checks, chains);
  r.source_latest_us = r.source_checks.LatestRecord();
  r.restored_latest_us = r.restored_checks.LatestRecord();
  if (r.source_checks.ran && r.restored_checks.ran) {
    r.table_lags = TableLags(r.source_checks, r.restored_checks);
    if (!r.table_lags.empty()) r.rpo_us = r.table_lags.front().lag_us;
  }
  if (options.drill_start_us && options.drill_end_us) r.rto_us = *options.drill_end_us - *options.drill_start_us;
  ContentChecks(r);
  restored_obs.Judge(r.restored_checks, r.source_checks, r.checks);
  SequenceChecks(r);
  SchemaChecks(r);
  ObjectiveChecks(r);
  SchemaHashCheck(r);
  r.phases.push_back({"checks", checks_start, since_start() - checks_start});
  if (options.amcheck) {
    const double amcheck_start = since_start();
    if (options.compare.progress != nullptr) options.compare.progress->SetPhase("amcheck");
    auto indexes = CheckBtreeIndexes(restored_side.spec());
    if (!indexes.ok()) return indexes.status();
    r.index_checks = std::move(indexes).value();
    r.checks.push_back({"Index Integrity", "B-tree indexes (amcheck)", r.index_checks->failures.empty(),
                        DrillSubject::kIndexes, 0,
                        drill::Facts({{"checked", r.index_checks->checked},
                                      {"failed", static_cast<uint64_t>(r.index_checks->failures.size())}})});
    r.phases.push_back({"amcheck", amcheck_start, since_start() - amcheck_start});
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace vouch
