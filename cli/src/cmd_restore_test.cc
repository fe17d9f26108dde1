// vouch restore-test BACKUP: a pg_dump archive restored for real into a
// scratch cluster, then proven against the archive with the drill.
#include <iostream>
#include <memory>

#include "command.h"
#include "drill_flags.h"
#include "render/html.h"
#include "render/restore.h"
#include "vouch/base/civil_time.h"
#include "vouch/base/finding.h"
#include "vouch/evidence/ledger.h"
#include "vouch/restore/restore_test.h"

namespace vouch::cli {
namespace {

// The ledger's line of a restore-test: the first database's restored side
// (its final hash), the tables and rows of all, the RTO as its time.
evidence::LedgerEntry RestoreLedgerEntry(const RestoreTestReport& r) {
  evidence::LedgerEntry e;
  e.command = "restore-test";
  e.scope = r.kind + " " + r.backup;
  for (const auto& db : r.databases) {
    if (!db.drill) continue;
    if (e.final_hash.empty()) e.final_hash = db.drill->restored_final_hash;
    e.source["database " + db.name] = db.drill->restored_final_hash;
    e.tables += db.drill->compare.actual.tables.size();
    for (const auto& t : db.drill->compare.actual.tables) {
      e.rows += t.digest.rows();
      e.table_rows.emplace_back((r.databases.size() > 1 ? db.name + ":" : "") + t.QualifiedName(), t.digest.rows());
    }
  }
  if (r.recovery) e.source["recovery_end_lsn"] = r.recovery->end_lsn;
  e.source["server_version"] = r.server_version;
  e.verdict = r.Passed() ? "PASS" : "FAIL";
  e.seconds = r.rto_us / 1e6;
  return e;
}

}  // namespace

Command AddRestoreTest(CLI::App& app) {
  struct Options {
    RestoreTestOptions test;
    DrillFlags drill;
    std::string rto_target, format = "text", output, target, target_lsn, target_time, cipher_pass_file;
    TableList list = TableList::kAuto;
    bool no_amcheck = false;
    SignFlag sign;
    LedgerFlag ledger;
    ProgressFlag progress;
    RunProgress run;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "restore-test",
      "Restore a backup for real into a scratch cluster that vouch starts and removes, then prove it (the drill's "
      "checks); each phase timed, their sum the measured RTO. A pg_dump archive (custom, directory or tar) is "
      "restored with pg_restore and proven against itself; a plain base backup is copied, recovered from "
      "--wal-archive to the target, and proven against --expect");
  cmd->footer(
      "Examples:\n"
      "  vouch restore-test nightly.dump --globals globals.sql --rto-target 30m --format markdown -o restore.md\n"
      "  vouch restore-test /backups/base --wal-archive /backups/wal --target-manifest app-at-lsn.json\n"
      "  vouch restore-test /var/lib/barman/main --expect app.json\n"
      "  vouch restore-test --pgbackrest /var/lib/pgbackrest --stanza main --expect app.json");
  cmd->add_option("BACKUP", o->test.backup,
                  "pg_dump archive (custom file, directory, tar file), base backup directory, or a Barman backup "
                  "(barman_home/SERVER: its newest DONE backup; or SERVER/base/ID), recovered from the server's wals/");
  cmd->add_option("--pgbackrest", o->test.pgbackrest.repo,
                  "instead of BACKUP: a set of this pgBackRest repository (repo1-path), restored with `pgbackrest "
                  "restore`, recovered from the repository's archive, proven against --expect");
  cmd->add_option("--stanza", o->test.pgbackrest.stanza, "with --pgbackrest: the stanza");
  cmd->add_option("--set", o->test.pgbackrest.set, "with --pgbackrest: the set's label (default: the newest)");
  cmd->add_option("--cipher-pass-file", o->cipher_pass_file,
                  "with --pgbackrest: a file (mode 600) whose first line is the encrypted repository's "
                  "repo1-cipher-pass");
  cmd->add_option("--wal-archive", o->test.wal_archive,
                  "base backup: the WAL archive (segments plain or .gz/.zst/.lz4/.bz2) recovery reads");
  cmd->add_option("--expect", o->test.expect,
                  "base backup: the manifest (vouch digest -o) the restored database must match; its database is "
                  "the one read; or a directory of them (digest --all-databases -o DIR), each database proven");
  cmd->add_option("--source", o->test.source,
                  "base backup: the live source (URI), read when recovery ends: the RPO runs from its latest "
                  "commit (a standby's last replayed, a primary's with track_commit_timestamp, else its clock), "
                  "not from the manifest's read");
  cmd->add_option("--target-lsn", o->target_lsn, "base backup: recover to just before this LSN (X/X)");
  cmd->add_option("--target-time", o->target_time, "base backup: recover to this time (as the server reads it)");
  cmd->add_option("--target-manifest", o->test.target.manifest,
                  "base backup: recover to the LSN of this manifest (vouch digest --at-lsn -o), exactly its data; "
                  "also --expect unless one is given. A directory (digest --all-databases --at-lsn -o DIR): every "
                  "database at that one LSN");
  cmd->add_option("--target", o->target, "base backup: 'latest', the archive's end (the default)")
      ->check(CLI::IsMember({"latest"}));
  cmd->add_option("--pg-bin", o->test.pg_bin,
                  "the server's bin directory: initdb, pg_ctl, postgres, pg_restore (default: the newest "
                  "/usr/lib/postgresql/N/bin)");
  cmd->add_option("--scratch", o->test.scratch_parent, "where the scratch cluster is made (default /tmp)");
  cmd->add_option("--run-as", o->test.run_as, "as root: the user the scratch server runs as (default postgres)");
  cmd->add_option("--keep", o->test.keep, "keep the scratch cluster in DIR (made; must not exist), server stopped");
  cmd->add_option("--globals", o->test.globals,
                  "the source cluster's roles (pg_dumpall --globals-only), run with psql before pg_restore and "
                  "compared by the drill");
  cmd->add_option("-j,--jobs", o->test.jobs, "pg_restore -j (a tar archive restores with one)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--rto-target", o->rto_target, "fail when the phases together take longer (90s, 15m, 2h)");
  AddDrillCheckFlags(cmd, o->drill);
  cmd->add_flag("--no-amcheck", o->no_amcheck,
                "skip the check of every B-tree index of the restored database with amcheck (bt_index_check, "
                "heapallindexed), which runs by default: COPY never reads an index, and a restore onto another "
                "glibc or ICU corrupts text indexes silently");
  cmd->add_option("--format", o->format,
                  "report format: text, markdown, json, junit or html (one self-contained page with charts)")
      ->check(CLI::IsMember({"text", "markdown", "json", "junit", "html"}));
  cmd->add_option("-o,--output", o->output, "write the report (--format) to FILE; stdout then gets the text report");
  AddListOption(cmd, o->list);
  o->progress.Add(cmd);
  o->sign.Add(cmd);
  o->ledger.Add(cmd);
  return {cmd, [o]() -> int {
            if (Status st = o->sign.Check(o->output, o->format == "json", !o->ledger.file.empty()); !st.ok())
              return Fail(st);
            if (o->test.backup.empty() == o->test.pgbackrest.repo.empty()) {
              return Fail(InvalidArgument("restore-test: give BACKUP, or --pgbackrest REPO --stanza NAME"));
            }
            if (o->test.pgbackrest.repo.empty() && (!o->test.pgbackrest.stanza.empty() ||
                                                    !o->test.pgbackrest.set.empty() || !o->cipher_pass_file.empty())) {
              return Fail(InvalidArgument("--stanza, --set and --cipher-pass-file go with --pgbackrest REPO"));
            }
            if (!o->cipher_pass_file.empty()) {
              auto pass = ReadPassphrase(o->cipher_pass_file);
              if (!pass.ok()) return Fail(pass.status());
              o->test.pgbackrest.cipher_pass = *pass;
            }
            if (!o->rto_target.empty()) {
              auto us = ParseDuration(o->rto_target);
              if (!us) {
                return Fail(InvalidArgument("--rto-target '" + o->rto_target +
                                            "': expected a duration like 500ms, 90s, 15m, 2h, 1d"));
              }
              o->test.rto_target_us = *us;
            }
            const int targets = !o->target_lsn.empty() + !o->target_time.empty() + !o->test.target.manifest.empty() +
                                !o->target.empty();
            if (targets > 1) {
              return Fail(InvalidArgument(
                  "one recovery target at most: --target-lsn, --target-time, --target-manifest or --target latest"));
            }
            if (!o->target_lsn.empty()) o->test.target = {RecoveryTarget::kLsn, o->target_lsn, ""};
            if (!o->target_time.empty()) o->test.target = {RecoveryTarget::kTime, o->target_time, ""};
            if (Status st = ApplyDrillFlags(o->drill, o->test.drill); !st.ok()) return Fail(st);
            o->test.drill.amcheck = !o->no_amcheck;
            o->test.progress = &o->run;
            auto display = o->progress.Start("vouch restore-test",
                                             {{"backup", &o->run.side[0]}, {"restored", &o->run.side[1]}}, &o->run);
            auto r = RunRestoreTest(o->test);
            display.reset();
            if (!r.ok()) return Fail(r.status());
            const RestoreTestReport& rep = *r;
            if (!EmitReport(o->format, o->output,
                            {[&] { return RestoreTestText(rep, o->list); },
                             [&] { return RestoreTestMarkdown(rep, o->list); }, [&] { return RestoreTestJson(rep); },
                             [&] { return RestoreTestJUnit(rep); }, [&] { return RestoreTestHtml(rep, o->list); }})) {
              return Fail(IoError(o->output + ": cannot write the report"));
            }
            if (Status st = o->sign.Sign(o->output); !st.ok()) return Fail(st);
            auto anomaly = o->ledger.Append(RestoreLedgerEntry(rep), o->sign);
            if (!anomaly.ok()) return Fail(anomaly.status());
            if (*anomaly) return 1;
            // A failed restore or a missed RTO is a finding (1); else the
            // drill's own exit code (3 when something could not be checked).
            if (!r->RestoreClean() || !r->RtoMet() || !r->AllDrilled()) return 1;
            return ExitCode(r->DrillOutcome());
          }};
}

}  // namespace vouch::cli
