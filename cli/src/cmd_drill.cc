// vouch drill SOURCE RESTORED: a restore validated end to end, with the
// report of a DR drill.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>

#include "command.h"
#include "render/drill.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/drill.h"

namespace vouch::cli {
namespace {

struct DrillFlags {
  std::vector<std::string> chains, chain_configs, gap_columns, fks, time_columns;
  uint64_t gap_threshold = 1;
  bool no_catalog_fks = false;
  std::string now, future_skew = "5m", recovery_window, rpo_target, rto_target, drill_start, drill_end;
  size_t max_samples = 10;
  std::string memory_limit = "256MB";
};

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

Command AddDrill(CLI::App& app) {
  struct Options {
    std::string source, restored, format = "text", output;
    std::string globals, restored_globals;
    DrillFlags flags;
    CompareOptions compare;
    Selection selection;
    bool quiet = false;
    bool amcheck = false;
    TableList list = TableList::kAuto;
  };
  auto o = std::make_shared<Options>();
  DrillFlags& df = o->flags;
  auto* drill = app.add_subcommand(
      "drill",
      "Validate a restore end to end (DR drill): compare SOURCE with RESTORED table by table, verify audit "
      "chains, sequence gaps, foreign keys (orphans), timestamps, RPO/RTO, and write the report");
  drill->add_option("SOURCE", o->source, "what was backed up: database URI, dump, archive or manifest")->required();
  drill->add_option("RESTORED", o->restored, "the restored copy: database URI or dump")->required();
  drill->add_option("--chain", df.chains, "audit chain TABLE[:key=value,...] (repeatable; see README)")
      ->allow_extra_args(false);
  drill->add_option("--chain-config", df.chain_configs, "TOML file of [[chain]] specs (repeatable)")
      ->allow_extra_args(false);
  drill
      ->add_option("--gap-column", df.gap_columns,
                   "[schema.]table.column: an integer sequence to check for gaps (repeatable)")
      ->allow_extra_args(false);
  drill
      ->add_option("--gap-threshold", df.gap_threshold,
                   "a run of this many missing values or more is suspicious (default 1)")
      ->check(Counting(1));
  drill->add_option("--fk", df.fks, "declare a foreign key child(col[,col])=parent(col[,col]) to check (repeatable)")
      ->allow_extra_args(false);
  drill->add_flag("--no-catalog-fks", df.no_catalog_fks, "check only --fk keys, not those the source declares");
  drill
      ->add_option("--time-column", df.time_columns,
                   "[schema.]table.column: the table's record time (default: its first timestamp column; repeatable)")
      ->allow_extra_args(false);
  drill->add_option("--now", df.now, "the time future timestamps are judged against (default: when the drill starts)");
  drill->add_option("--future-skew", df.future_skew,
                    "allowed clock skew before a timestamp is in the future (default 5m)");
  drill->add_option("--recovery-window", df.recovery_window, "FROM..TO: count the records written in this window");
  drill->add_option("--rpo-target", df.rpo_target, "maximum data loss, e.g. 15m (RPO check)");
  drill->add_option("--rto-target", df.rto_target,
                    "maximum time to restore, e.g. 30m (RTO check; needs --drill-start)");
  drill->add_option("--drill-start", df.drill_start, "when the outage/drill began (RTO start)");
  drill->add_option("--drill-end", df.drill_end,
                    "when service was restored (RTO end; default: --now, else when vouch drill starts)");
  drill->add_option("--globals", o->globals,
                    "SOURCE's cluster-wide objects (roles, memberships, tablespaces, ALTER ROLE ... SET) when it is "
                    "a dump: its pg_dumpall --globals-only file; compared with RESTORED's roles");
  drill->add_option("--restored-globals", o->restored_globals,
                    "RESTORED's pg_dumpall --globals-only file when RESTORED is a dump");
  drill->add_flag("--amcheck", o->amcheck,
                  "check every B-tree index of the restored database with amcheck (bt_index_check, heapallindexed): "
                  "COPY never reads an index; creates the amcheck extension when missing and drops it again");
  drill->add_flag("--rows-only", o->compare.digest.rows_only,
                  "compare rows and audit chains only: no sequences, large objects or schema objects (the report "
                  "says each was not compared; no SCHEMA_VALIDATION_HASH). FINAL_VALIDATION_HASH then covers the "
                  "tables and chains alone: the large objects (a database's are not read) are left out of it, and "
                  "the report counts them");
  drill->add_option("--max-keys", o->compare.max_keys, "differing keys listed per kind and table (default 20)")
      ->check(Counting(0));
  drill->add_option("--max-samples", df.max_samples, "sample keys listed per finding (default 10)")->check(Counting(0));
  drill->add_option("--memory-limit", df.memory_limit,
                    "memory for the foreign keys' key sets and the audit chains, e.g. 64MB, 1G (default "
                    "256MB); beyond it they spill to temporary files under $TMPDIR");
  drill->add_option("-j,--jobs", o->compare.digest.jobs, "threads and connections per side (default: all cores)")
      ->check(CLI::Range(1, 1024));
  drill->add_option("--format", o->format, "report format: text, markdown, json or junit")
      ->check(CLI::IsMember({"text", "markdown", "json", "junit"}));
  AddListOption(drill, o->list);
  drill->add_option("-o,--output", o->output, "write the report (--format) to FILE; stdout then gets the text report");
  drill->add_flag("-q,--quiet", o->quiet, "no run statistics on stderr");
  o->selection.Add(drill);

  return {drill, [o]() -> int {
            if (Status st = o->selection.Apply(o->compare.digest); !st.ok()) return Fail(st);
            if (o->compare.digest.rows_only && (!o->globals.empty() || !o->restored_globals.empty())) {
              return Fail(InvalidArgument(std::string(o->globals.empty() ? "--restored-globals" : "--globals") +
                                          ": cluster-wide objects are schema objects, which --rows-only does not "
                                          "compare"));
            }
            const DrillFlags& df = o->flags;
            DrillOptions d;
            Status built = BuildDrillOptions(df.chains, df.chain_configs, df.gap_columns, df.fks, df.time_columns, d);
            if (!built.ok()) return Fail(built);
            d.compare = o->compare;
            d.source_globals = o->globals;
            d.restored_globals = o->restored_globals;
            d.amcheck = o->amcheck;
            CheckOptions& c = d.checks;
            c.gap_threshold = df.gap_threshold;
            c.catalog_fks = !df.no_catalog_fks;
            c.max_samples = df.max_samples;
            auto limit = ParseSize(df.memory_limit);
            if (!limit || *limit < 1024) {
              return Fail(InvalidArgument("--memory-limit " + df.memory_limit +
                                          ": expected a size of 1K or more, e.g. 64MB, 1G"));
            }
            c.memory_limit = *limit;
            if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') c.temp_dir = tmp;
            if (Status st = BuildDrillTimes(df, d); !st.ok()) return Fail(st);
            auto report = RunDrill(o->source, o->restored, d);
            if (!report.ok()) return Fail(report.status());
            const std::string& format = o->format;
            std::string rendered = format == "markdown" ? DrillMarkdown(*report, o->list)
                                   : format == "json"   ? DrillJson(*report)
                                   : format == "junit"  ? DrillJUnit(*report)
                                                        : DrillText(*report, o->list);
            if (!o->output.empty()) {
              if (!WriteFile(o->output, rendered)) return Fail(IoError(o->output + ": cannot write the report"));
              std::cout << (format == "text" ? rendered : DrillText(*report, o->list));
            } else {
              std::cout << rendered;
            }
            if (!o->quiet) PrintRunStats({&report->compare.expected, &report->compare.actual});
            return ExitCode(report->outcome());
          }};
}

}  // namespace vouch::cli
