// vouch compare EXPECTED ACTUAL: table by table, naming the differing rows.
#include <iostream>
#include <memory>

#include "command.h"
#include "render/digest.h"
#include "render/html.h"
#include "vouch/engine/compare.h"

namespace vouch::cli {

Command AddCompare(CLI::App& app) {
  struct Options {
    std::string expected, actual, format = "text", output;
    SignFlag sign;
    LedgerFlag ledger;
    CompareOptions compare;
    Selection selection;
    LiveReadFlags live;
    bool quiet = false;
    TableList list = TableList::kAuto;
    ProgressFlag progress;
    RunProgress run;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("compare", "Compare EXPECTED with ACTUAL table by table and name the differing rows");
  cmd->footer(
      "Examples:\n"
      "  vouch compare postgresql://vouch@db1/app postgresql://vouch@db2/app_restored\n"
      "  vouch compare app-manifest.json nightly.dump --max-keys 50 -o compare.json");
  cmd->add_option("EXPECTED", o->expected, "database URI, dump file or manifest")->required();
  cmd->add_option("ACTUAL", o->actual, "database URI, dump file or manifest")->required();
  cmd->add_option("-j,--jobs", o->compare.digest.jobs, "threads and connections per side (default: all cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--format", o->format, "stdout format: text, json or html (one self-contained page with charts)")
      ->check(CLI::IsMember({"text", "json", "html"}));
  AddListOption(cmd, o->list);
  cmd->add_option("--max-keys", o->compare.max_keys, "keys listed per kind and table (default 20)");
  cmd->add_flag("--rows-only", o->compare.digest.rows_only,
                "compare the tables' rows only: no sequences or large objects (the report says they were not "
                "compared). FINAL_VALIDATION_HASH then covers the tables alone: the large objects (a database's "
                "are not read) are left out of it, and the report counts them");
  cmd->add_flag("-q,--quiet", o->quiet, "no run statistics or progress on stderr");
  o->progress.Add(cmd);
  cmd->add_option("-o,--output", o->output, "also write the JSON report to FILE");
  o->selection.Add(cmd);
  o->live.Add(cmd);
  o->sign.Add(cmd);
  o->ledger.Add(cmd);
  return {cmd, [o]() -> int {
            if (Status st = o->sign.Check(o->output, /*json=*/true, !o->ledger.file.empty()); !st.ok()) return Fail(st);
            if (Status st = o->selection.Apply(o->compare.digest); !st.ok()) return Fail(st);
            if (Status st = o->live.Apply(o->compare.digest); !st.ok()) return Fail(st);
            // compare judges rows, sequences and large objects; the schema
            // objects are drill's (a database's catalogs or an archive's DDL
            // of 100,000 tables would cost memory for nothing here).
            o->compare.digest.schema = false;
            o->compare.progress = &o->run;
            auto display = o->progress.Start(
                "vouch compare", {{"expected", &o->run.side[0]}, {"actual", &o->run.side[1]}}, &o->run, o->quiet);
            auto report = Compare(o->expected, o->actual, o->compare);
            display.reset();
            if (!report.ok()) return Fail(report.status());
            if (!o->output.empty()) {
              if (!WriteFile(o->output, CompareJson(*report)))
                return Fail(IoError(o->output + ": cannot write the report"));
              if (Status st = o->sign.Sign(o->output); !st.ok()) return Fail(st);
            }
            auto entry = LedgerEntryOf("compare", report->actual, report->outcome());
            entry.scope = "compare " + report->expected.source.location + " -> " + report->actual.source.location;
            auto anomaly = o->ledger.Append(entry, o->sign);
            if (!anomaly.ok()) return Fail(anomaly.status());
            std::cout << (o->format == "json"   ? CompareJson(*report)
                          : o->format == "html" ? CompareHtml(*report, o->list)
                                                : CompareText(*report, o->list));
            if (!o->quiet) PrintRunStats({&report->expected, &report->actual});
            return *anomaly ? 1 : ExitCode(report->outcome());
          }};
}

}  // namespace vouch::cli
