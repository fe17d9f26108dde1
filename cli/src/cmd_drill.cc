// vouch drill SOURCE RESTORED: a restore validated end to end, with the
// report of a DR drill.
#include <iostream>
#include <memory>

#include "command.h"
#include "drill_flags.h"
#include "render/drill.h"
#include "render/html.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/drill.h"

namespace vouch::cli {
Command AddDrill(CLI::App& app) {
  struct Options {
    std::string source, restored, format = "text", output;
    SignFlag sign;
    LedgerFlag ledger;
    std::string globals, restored_globals;
    DrillFlags flags;
    CompareOptions compare;
    Selection selection;
    LiveReadFlags live;
    bool quiet = false;
    bool amcheck = false;
    TableList list = TableList::kAuto;
    ProgressFlag progress;
    RunProgress run;
  };
  auto o = std::make_shared<Options>();
  DrillFlags& df = o->flags;
  auto* drill = app.add_subcommand(
      "drill",
      "Validate a restore end to end (DR drill): compare SOURCE with RESTORED table by table, verify audit "
      "chains, sequence gaps, foreign keys (orphans), timestamps, RPO/RTO, and write the report");
  drill->footer(
      "Examples:\n"
      "  vouch drill postgresql://vouch@db1/app postgresql://vouch@db2/app_restored "
      "--chain audit_log --rpo-target 15m\n"
      "  vouch drill nightly.dump postgresql://vouch@db2/app --rto-target 30m --drill-start '2025-09-30 17:00:00' "
      "--format junit -o drill.xml");
  drill->add_option("SOURCE", o->source, "what was backed up: database URI, dump, archive or manifest")->required();
  drill->add_option("RESTORED", o->restored, "the restored copy: database URI or dump")->required();
  AddDrillCheckFlags(drill, df);
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
  drill->add_option("-j,--jobs", o->compare.digest.jobs, "threads and connections per side (default: all cores)")
      ->check(CLI::Range(1, 1024));
  drill
      ->add_option("--format", o->format,
                   "report format: text, markdown, json, junit or html (one self-contained page with charts)")
      ->check(CLI::IsMember({"text", "markdown", "json", "junit", "html"}));
  AddListOption(drill, o->list);
  drill->add_option("-o,--output", o->output, "write the report (--format) to FILE; stdout then gets the text report");
  drill->add_flag("-q,--quiet", o->quiet, "no run statistics or progress on stderr");
  o->progress.Add(drill);
  o->selection.Add(drill);
  o->live.Add(drill);
  o->sign.Add(drill);
  o->ledger.Add(drill);

  return {drill, [o]() -> int {
            if (Status st = o->sign.Check(o->output, o->format == "json", !o->ledger.file.empty()); !st.ok())
              return Fail(st);
            if (Status st = o->selection.Apply(o->compare.digest); !st.ok()) return Fail(st);
            if (Status st = o->live.Apply(o->compare.digest); !st.ok()) return Fail(st);
            if (o->compare.digest.rows_only && (!o->globals.empty() || !o->restored_globals.empty())) {
              return Fail(InvalidArgument(std::string(o->globals.empty() ? "--restored-globals" : "--globals") +
                                          ": cluster-wide objects are schema objects, which --rows-only does not "
                                          "compare"));
            }
            const DrillFlags& df = o->flags;
            DrillOptions d;
            d.compare = o->compare;
            d.source_globals = o->globals;
            d.restored_globals = o->restored_globals;
            d.amcheck = o->amcheck;
            if (Status st = ApplyDrillFlags(df, d); !st.ok()) return Fail(st);
            d.compare.progress = &o->run;
            auto display = o->progress.Start(
                "vouch drill", {{"source", &o->run.side[0]}, {"restored", &o->run.side[1]}}, &o->run, o->quiet);
            auto report = RunDrill(o->source, o->restored, d);
            display.reset();
            if (!report.ok()) return Fail(report.status());
            const DrillReport& rep = *report;
            if (!EmitReport(o->format, o->output,
                            {[&] { return DrillText(rep, o->list); }, [&] { return DrillMarkdown(rep, o->list); },
                             [&] { return DrillJson(rep); }, [&] { return DrillJUnit(rep); },
                             [&] { return DrillHtml(rep, o->list); }})) {
              return Fail(IoError(o->output + ": cannot write the report"));
            }
            if (Status st = o->sign.Sign(o->output); !st.ok()) return Fail(st);
            // The drill's scope is its source, the data being protected: its
            // tables and chains are what the canaries follow from run to run.
            auto entry = LedgerEntryOf("drill", report->compare.expected, report->outcome());
            entry.scope = "drill of " + report->source;
            entry.source["restored"] = report->restored;
            entry.final_hash = report->source_final_hash;
            entry.seconds = report->seconds;
            if (Status st = AddChainHeads(o->ledger.file, o->source, report->source_checks, entry); !st.ok()) {
              return Fail(st);
            }
            auto anomaly = o->ledger.Append(entry, o->sign);
            if (!anomaly.ok()) return Fail(anomaly.status());
            if (!o->quiet) PrintRunStats({&report->compare.expected, &report->compare.actual});
            return *anomaly ? 1 : ExitCode(report->outcome());
          }};
}

}  // namespace vouch::cli
