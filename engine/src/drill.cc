#include "vouch/engine/drill.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "vouch/engine/source.h"
#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/hex.h"

namespace vouch {
namespace {

// 1,234,567
std::string Count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "1 link", "2 links"
std::string Plural(uint64_t n, const std::string& one, const std::string& many) {
  return Count(n) + " " + (n == 1 ? one : many);
}

// "3.5 s", "12 minutes", "12.5 minutes"
std::string Minutes(int64_t us) {
  char buf[64];
  double s = static_cast<double>(us) / 1e6;
  if (s < 120)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else
    std::snprintf(buf, sizeof buf, "%.1f minutes", s / 60);
  std::string out = buf;
  if (size_t p = out.find(".0 "); p != std::string::npos) out.erase(p, 2);
  return out;
}

std::string Seqs(const std::vector<int64_t>& v, uint64_t total) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  if (total > v.size()) s += ", ...";
  return s;
}

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

void AddChecks(DrillReport& r, const DrillOptions& o) {
  auto add = [&](std::string section, std::string name, bool passed, std::string detail) {
    r.checks.push_back({std::move(section), std::move(name), passed, std::move(detail)});
  };
  // Content, table by table.
  for (const auto& t : r.compare.tables) {
    std::string name = t.QualifiedName();
    std::string detail = Count(t.expected_rows) + " rows expected, " + Count(t.actual_rows) + " restored";
    switch (t.status) {
      case TableStatus::kMatch: detail += "; content hash " + t.actual_hash + " matches"; break;
      case TableStatus::kMissing:
        detail = "missing from the restored copy (" + Plural(t.expected_rows, "row", "rows") + ")";
        break;
      case TableStatus::kExtra: detail = "not in the source (" + Plural(t.actual_rows, "row", "rows") + ")"; break;
      case TableStatus::kMismatch: {
        if (t.columns_differ) detail += "; the column lists differ";
        int64_t delta = static_cast<int64_t>(t.actual_rows) - static_cast<int64_t>(t.expected_rows);
        if (delta != 0)
          detail +=
              " (count " + std::string(delta > 0 ? "+" : "−") + Count(static_cast<uint64_t>(std::llabs(delta))) + ")";
        if (t.rows_located) {
          auto list = [&](const char* what, uint64_t n, const std::vector<std::string>& keys) {
            if (n == 0) return;
            detail += "; " + Count(n) + " " + what + ":";
            for (const auto& k : keys) detail += " " + k;
            if (n > keys.size()) detail += " ...";
          };
          list("missing", t.missing, t.missing_keys);
          list("extra", t.extra, t.extra_keys);
          list("changed", t.changed, t.changed_keys);
        } else if (!t.not_located_reason.empty()) {
          detail += "; rows not named: " + t.not_located_reason;
        }
        break;
      }
    }
    add("Data Integrity", name + " content", t.status == TableStatus::kMatch, detail);
  }
  // Audit chains (on the restored copy; a source whose chain is already
  // broken is named too, as it is not the restore's fault).
  for (size_t i = 0; i < r.restored_checks.chains.size(); ++i) {
    const ChainCheck& c = r.restored_checks.chains[i];
    std::string detail;
    if (!c.found) {
      detail = "the restored copy has no table " + c.spec.table;
    } else if (!c.error.empty()) {
      detail = c.error;
    } else if (c.SpecLooksWrong()) {
      detail = "every one of the " + Plural(c.result.entries, "link", "links") +
               " fails: the chain spec is probably wrong (separator, field order, timestamp rendering, "
               "algorithm or encoding), not a tampered table; spec: " +
               c.description;
    } else {
      const auto& x = c.result;
      detail = Plural(x.entries, "entry", "entries") + ", head " + x.head_hash;
      if (x.link_failures)
        detail += "; " + Plural(x.link_failures, "link fails", "links fail") + " at seq " +
                  Seqs(x.first_link_failures, x.link_failures);
      if (x.continuity_breaks) detail += "; chain breaks at seq " + Seqs(x.first_breaks, x.continuity_breaks);
      if (x.duplicates) detail += "; duplicate seq " + Seqs(x.first_duplicates, x.duplicates);
      if (c.bad_rows) detail += "; " + Plural(c.bad_rows, "unreadable row", "unreadable rows");
      if (c.gaps.gaps) {
        detail += "; " + Plural(c.gaps.gaps, "gap", "gaps") + " (" + Count(c.gaps.missing) + " missing seq):";
        for (const auto& [a, b] : c.gaps.ranges) {
          detail += " " + std::to_string(a) + (a == b ? "" : ".." + std::to_string(b)) + " (size " +
                    std::to_string(b - a + 1) + ")";
        }
      }
    }
    add("Audit Chain", c.spec.table + " chain", c.Passed(), detail);
    if (i < r.source_checks.chains.size() && r.source_checks.ran) {
      const ChainCheck& sc = r.source_checks.chains[i];
      if (sc.found && !sc.Passed() && !sc.SpecLooksWrong()) {
        add("Audit Chain", c.spec.table + " chain in the source", false,
            "the source's own chain does not verify (" +
                Plural(sc.result.link_failures, "link failure", "link failures") + ", " +
                Plural(sc.result.continuity_breaks, "break", "breaks") + "): it was broken before the backup");
      }
    }
  }
  for (const auto& g : r.restored_checks.gaps) {
    std::string name = QualifiedTableName(g.schema, g.table) + "." + g.column + " gaps";
    std::string detail;
    if (!g.found) {
      detail = "the restored copy has no table " + QualifiedTableName(g.schema, g.table);
    } else {
      detail = Plural(g.result.distinct, "value", "values") + " " + std::to_string(g.result.min) + ".." +
               std::to_string(g.result.max) + ", " + Plural(g.result.gaps, "gap", "gaps") + ", max gap size " +
               Count(g.result.max_gap) + ", " + Count(g.result.suspicious) + " suspicious";
      for (const auto& [a, b] : g.result.ranges) {
        detail += "; missing " + std::to_string(a) + (a == b ? "" : ".." + std::to_string(b));
      }
      if (g.non_integer)
        detail += "; " + Plural(g.non_integer, "NULL or non-integer value", "NULL or non-integer values");
    }
    add("Sequence Gaps", name, g.Passed(), detail);
  }
  for (const auto& f : r.restored_checks.orphans) {
    std::string detail;
    if (!f.not_checked.empty()) {
      detail = "not checked: " + f.not_checked;
    } else {
      detail = Count(f.orphans) + " orphaned of " + Plural(f.child_rows, "row", "rows") + " (" +
               Plural(f.null_refs, "NULL reference", "NULL references") + ", not orphans)";
      if (!f.samples.empty()) {
        detail += ":";
        for (const auto& s : f.samples) detail += " " + s + ";";
        detail.pop_back();
      }
    }
    add("Referential Integrity", "orphans " + f.Name() + (f.declared ? " (declared)" : ""), f.Passed(), detail);
  }
  // Temporal: future and NULL timestamps in the restored copy.
  uint64_t future = 0, nulls = 0;
  std::string future_detail, null_detail;
  for (const auto& t : r.restored_checks.temporal) {
    for (const auto& c : t.columns) {
      if (c.future) {
        future += c.future;
        future_detail +=
            (future_detail.empty() ? "" : "; ") + t.QualifiedName() + "." + c.column + ": " + Count(c.future);
        if (!c.future_samples.empty()) {
          future_detail += " (";
          for (size_t i = 0; i < c.future_samples.size(); ++i) future_detail += (i ? "; " : "") + c.future_samples[i];
          future_detail += ")";
        }
      }
      if (c.column == t.record_column && c.nulls) {
        nulls += c.nulls;
        null_detail += (null_detail.empty() ? "" : "; ") + t.QualifiedName() + "." + c.column + ": " + Count(c.nulls);
      }
    }
  }
  add("Temporal", "future timestamps", future == 0,
      future == 0 ? "none later than " + FormatTimestamp(r.now_us) + " + skew"
                  : Plural(future, "violation", "violations") + ": " + future_detail);
  add("Temporal", "NULL record timestamps", nulls == 0,
      nulls == 0 ? "none in any table's record-time column"
                 : Plural(nulls, "violation", "violations") + ": " + null_detail);
  if (o.rpo_target_us) {
    if (r.rpo_us) {
      add("RPO", "RPO", *r.rpo_us <= *o.rpo_target_us,
          "achieved " + Minutes(*r.rpo_us) + " (target ≤ " + Minutes(*o.rpo_target_us) + "): latest source record " +
              FormatTimestamp(*r.source_latest_us) + ", latest restored " + FormatTimestamp(*r.restored_latest_us));
    } else {
      add("RPO", "RPO", false, "not measured: no record timestamps on both sides");
    }
  }
  if (o.rto_target_us) {
    if (r.rto_us) {
      add("RTO", "RTO", *r.rto_us <= *o.rto_target_us,
          "achieved " + Minutes(*r.rto_us) + " (target ≤ " + Minutes(*o.rto_target_us) + ")");
    } else {
      add("RTO", "RTO", false, "not measured: give --drill-start and --drill-end");
    }
  }
  bool complete = r.compare.expected.Complete() && r.compare.actual.Complete();
  add("Final Validation Hash", "FINAL_VALIDATION_HASH", complete && r.source_final_hash == r.restored_final_hash,
      complete ? "source " + r.source_final_hash + ", restored " + r.restored_final_hash
               : "not every table could be hashed, so there is no final hash");
}

}  // namespace

Outcome DrillReport::outcome() const {
  Outcome o;
  if (checks.empty()) o.findings.push_back({FindingKind::kCheckFailed, "drill", "no check was made"});
  for (const auto& c : checks) {
    if (!c.passed) o.findings.push_back({FindingKind::kCheckFailed, c.section + ": " + c.name, c.detail});
  }
  return o;
}

Result<DrillReport> RunDrill(const std::string& source, const std::string& restored, const DrillOptions& options) {
  auto start = std::chrono::steady_clock::now();
  auto s = OpenSource(source, options.compare.digest);
  if (!s.ok()) return s.status();
  auto t = OpenSource(restored, options.compare.digest);
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
  // Each side also checks the other's foreign keys (a restore that lost a
  // constraint is checked against the source's).
  CheckOptions source_checks = checks, restored_checks = checks;
  if (checks.catalog_fks) {
    if (const auto* fks = source_side.foreign_keys()) restored_checks.other_side_fks = *fks;
    if (const auto* fks = restored_side.foreign_keys()) source_checks.other_side_fks = *fks;
  }
  DrillObserver source_obs(source_checks), restored_obs(restored_checks);
  CompareOptions cmp = options.compare;
  cmp.expected_observer = &source_obs;
  cmp.actual_observer = &restored_obs;
  auto compared = Compare(source_side, restored_side, cmp);
  if (!compared.ok()) return compared.status();
  r.compare = std::move(compared).value();
  r.source = r.compare.expected.source.location.empty() ? source : r.compare.expected.source.location;
  r.restored = r.compare.actual.source.location.empty() ? restored : r.compare.actual.source.location;

  auto side = [&](DrillObserver& obs, const Source& src, const std::string& spec) -> Result<SourceChecks> {
    if (src.kind() == SourceKind::kManifest) {
      SourceChecks none;
      none.not_run_reason = "a manifest holds digests, not rows";
      return none;
    }
    return obs.Finish(spec, cmp.digest);
  };
  auto sc = side(source_obs, source_side, source);
  if (!sc.ok()) return sc.status();
  r.source_checks = std::move(sc).value();
  auto rc = side(restored_obs, restored_side, restored);
  if (!rc.ok()) return rc.status();
  r.restored_checks = std::move(rc).value();

  // Chain heads count only when both sides read their rows (a manifest has
  // digests, not chains): else equal data would give different hashes.
  const bool chains = r.source_checks.ran && r.restored_checks.ran;
  r.source_final_hash = FinalHash(r.compare.expected, r.source_checks, chains);
  r.restored_final_hash = FinalHash(r.compare.actual, r.restored_checks, chains);
  r.source_latest_us = r.source_checks.LatestRecord();
  r.restored_latest_us = r.restored_checks.LatestRecord();
  if (r.source_latest_us && r.restored_latest_us)
    r.rpo_us = std::max<int64_t>(0, *r.source_latest_us - *r.restored_latest_us);
  if (options.drill_start_us && options.drill_end_us) r.rto_us = *options.drill_end_us - *options.drill_start_us;
  AddChecks(r, options);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace vouch
