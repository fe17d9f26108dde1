#include "drill_flags.h"

#include <chrono>
#include <cstdlib>
#include <set>

#include "command.h"
#include "vouch/base/civil_time.h"
#include "vouch/chain/chain_spec.h"

namespace vouch::cli {
namespace {
// The drill's chains, gap and time columns and declared foreign keys from
// their flags; a bad value is a usage error naming the flag and the value.
Status BuildDrillOptions(const std::vector<std::string>& chains, const std::vector<std::string>& chain_configs,
                         const std::vector<std::string>& gap_columns, const std::vector<std::string>& fks,
                         const std::vector<std::string>& time_columns, DrillOptions& d) {
  CheckOptions& c = d.checks;
  std::set<std::string> chain_tables;
  auto add_chain = [&](ChainSpec spec, const std::string& from) -> Status {
    if (!chain_tables.insert(spec.table).second) {
      return InvalidArgument(from + ": a second chain for table " + spec.table);
    }
    c.chains.push_back(std::move(spec));
    return Status::Ok();
  };
  for (const auto& flag : chains) {
    auto spec = ParseChainFlag(flag);
    if (!spec.ok()) {
      const std::string& m = spec.status().message();
      return m.rfind("chain \"", 0) == 0 ? InvalidArgument("--" + m)
                                         : spec.status().WithContext("--chain '" + flag + "'");
    }
    VOUCH_RETURN_IF_ERROR(add_chain(std::move(*spec), "--chain '" + flag + "'"));
  }
  for (const auto& path : chain_configs) {
    auto specs = LoadChainConfig(path);
    if (!specs.ok()) {
      // A config file that cannot be read is a configuration error (exit 2), like a bad one.
      return InvalidArgument("--chain-config: " + specs.status().message());
    }
    for (auto& spec : *specs) VOUCH_RETURN_IF_ERROR(add_chain(std::move(spec), "--chain-config " + path));
  }
  std::set<std::string> seen;
  for (const auto& ref : gap_columns) {
    auto parsed = ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--gap-column");
    c.gap_columns.push_back(ref);
  }
  for (const auto& ref : time_columns) {
    auto parsed = ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--time-column");
    const auto& [schema, table, column] = *parsed;
    if (!seen.insert(schema + "." + table).second) {
      return InvalidArgument("--time-column '" + ref + "': a second record-time column for " + schema + "." + table);
    }
    c.time_columns.push_back(ref);
  }
  for (const auto& text : fks) {
    auto fk = ParseForeignKeyFlag(text);
    if (!fk.ok()) return fk.status();  // "--fk '...': ..."
    c.declared_fks.push_back(std::move(*fk));
  }
  return Status::Ok();
}

// The drill's times from their flags: --now, --future-skew, the recovery
// window, RPO and RTO targets, the drill's start and end.
Status BuildDrillTimes(const DrillFlags& f, DrillOptions& d) {
  CheckOptions& c = d.checks;
  auto timestamp = [](const char* flag, const std::string& text) -> Result<int64_t> {
    auto us = ParseTimestampText(text);
    if (!us) {
      return InvalidArgument(std::string(flag) + " '" + text +
                             "': expected a timestamp YYYY-MM-DD[ HH:MM:SS[.ffffff]][Z|+HH[:MM]] (UTC unless an "
                             "offset is given)");
    }
    return *us;
  };
  auto duration = [](const char* flag, const std::string& text) -> Result<int64_t> {
    auto us = ParseDuration(text);
    if (!us)
      return InvalidArgument(std::string(flag) + " '" + text + "': expected a duration like 500ms, 90s, 15m, 2h, 1d");
    return *us;
  };
  if (!f.now.empty()) {
    auto v = timestamp("--now", f.now);
    if (!v.ok()) return v.status();
    c.now_us = *v;
  }
  {
    auto v = duration("--future-skew", f.future_skew);
    if (!v.ok()) return v.status();
    c.future_skew_us = *v;
  }
  if (!f.recovery_window.empty()) {
    size_t dots = f.recovery_window.find("..");
    if (dots == std::string::npos) {
      return InvalidArgument("--recovery-window '" + f.recovery_window + "': expected FROM..TO (two timestamps)");
    }
    auto from = timestamp("--recovery-window", f.recovery_window.substr(0, dots));
    if (!from.ok()) return from.status();
    auto to = timestamp("--recovery-window", f.recovery_window.substr(dots + 2));
    if (!to.ok()) return to.status();
    if (*to < *from) return InvalidArgument("--recovery-window '" + f.recovery_window + "': TO is before FROM");
    c.recovery_window = std::make_pair(*from, *to);
  }
  if (!f.rpo_target.empty()) {
    auto v = duration("--rpo-target", f.rpo_target);
    if (!v.ok()) return v.status();
    d.rpo_target_us = *v;
  }
  if (!f.rto_target.empty()) {
    auto v = duration("--rto-target", f.rto_target);
    if (!v.ok()) return v.status();
    d.rto_target_us = *v;
  }
  if (!f.drill_start.empty()) {
    auto v = timestamp("--drill-start", f.drill_start);
    if (!v.ok()) return v.status();
    d.drill_start_us = *v;
  }
  if (!f.drill_end.empty()) {
    if (!d.drill_start_us) return InvalidArgument("--drill-end '" + f.drill_end + "' needs --drill-start");
    auto v = timestamp("--drill-end", f.drill_end);
    if (!v.ok()) return v.status();
    d.drill_end_us = *v;
  }
  if (d.rto_target_us && !d.drill_start_us) {
    return InvalidArgument("--rto-target '" + f.rto_target + "' needs --drill-start (and --drill-end)");
  }
  if (d.drill_start_us && !d.drill_end_us) {
    // The restore is done when it is validated: end at --now, else now.
    d.drill_end_us =
        c.now_us != 0
            ? c.now_us
            : std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
  }
  if (d.drill_start_us && *d.drill_end_us < *d.drill_start_us) {
    return InvalidArgument("--drill-start '" + f.drill_start + "' is after the drill end (" +
                           FormatTimestamp(*d.drill_end_us) + ")");
  }
  return Status::Ok();
}

}  // namespace

void AddDrillCheckFlags(CLI::App* cmd, DrillFlags& df) {
  cmd->add_option("--chain", df.chains, "audit chain TABLE[:key=value,...] (repeatable; see README)")
      ->allow_extra_args(false);
  cmd->add_option("--chain-config", df.chain_configs, "TOML file of [[chain]] specs (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--gap-column", df.gap_columns,
                  "[schema.]table.column: an integer sequence to check for gaps (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--gap-threshold", df.gap_threshold,
                  "a run of this many missing values or more is suspicious (default 1)")
      ->check(Counting(1));
  cmd->add_option("--fk", df.fks, "declare a foreign key child(col[,col])=parent(col[,col]) to check (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-catalog-fks", df.no_catalog_fks, "check only --fk keys, not those the source declares");
  cmd->add_option("--time-column", df.time_columns,
                  "[schema.]table.column: the table's record time (default: its first timestamp column; repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--now", df.now, "the time future timestamps are judged against (default: when the drill starts)");
  cmd->add_option("--future-skew", df.future_skew,
                  "allowed clock skew before a timestamp is in the future (default 5m)");
  cmd->add_option("--recovery-window", df.recovery_window, "FROM..TO: count the records written in this window");
  cmd->add_option("--rpo-target", df.rpo_target, "maximum data loss, e.g. 15m (RPO check)");
  cmd->add_option("--max-samples", df.max_samples, "sample keys listed per finding (default 10)")->check(Counting(0));
  cmd->add_option("--memory-limit", df.memory_limit,
                  "memory for the foreign keys' key sets and the audit chains, e.g. 64MB, 1G (default "
                  "256MB); beyond it they spill to temporary files under $TMPDIR");
}

Status ApplyDrillFlags(const DrillFlags& df, DrillOptions& d) {
  VOUCH_RETURN_IF_ERROR(BuildDrillOptions(df.chains, df.chain_configs, df.gap_columns, df.fks, df.time_columns, d));
  CheckOptions& c = d.checks;
  c.gap_threshold = df.gap_threshold;
  c.catalog_fks = !df.no_catalog_fks;
  c.max_samples = df.max_samples;
  auto limit = ParseSize(df.memory_limit);
  if (!limit || *limit < 1024) {
    return InvalidArgument("--memory-limit " + df.memory_limit + ": expected a size of 1K or more, e.g. 64MB, 1G");
  }
  c.memory_limit = *limit;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') c.temp_dir = tmp;
  return BuildDrillTimes(df, d);
}

}  // namespace vouch::cli
