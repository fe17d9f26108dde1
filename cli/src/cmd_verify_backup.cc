// vouch verify-backup DIR...: a base backup (or a chain of a full backup and
// its incremental backups) verified without restoring it; or, with
// --newest-in, the nightly checks of a directory of backups.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "command.h"
#include "render/backup.h"
#include "render/html.h"
#include "render/nightly.h"
#include "vouch/backup/barman.h"
#include "vouch/backup/nightly_backup.h"
#include "vouch/backup/pgbackrest.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/base/civil_time.h"
#include "vouch/readers/wal.h"

namespace vouch::cli {
namespace {

struct BackupFlags {
  std::vector<std::string> dirs;
  std::string newest_in, max_age = "24h", format = "text", until, output, recovery_window, source;
  std::string pgbackrest, stanza, set;  // --pgbackrest REPO --stanza NAME [--set LABEL]
  std::string barman;                   // --barman DIR [--set ID]
  std::string cipher_pass_file;         // an encrypted repository's passphrase
  VerifyBackupOptions backup;
  NightlyOptions nightly;
  bool no_wal = false, no_decompress = false, quiet = false;
  SignFlag sign;
  LedgerFlag ledger;
  ProgressFlag progress;
  RunProgress run;
};

// Writes the report to --output (when given) and stdout: 0, or 3 when the
// file cannot be written.
int Emit(const BackupFlags& o, const std::string& text) {
  if (!o.output.empty() && !WriteFile(o.output, text)) {
    std::fprintf(stderr, "vouch: error: %s: cannot write the report\n", o.output.c_str());
    return 3;
  }
  if (Status st = o.sign.Sign(o.output); !st.ok()) return Fail(st);
  std::cout << text;
  return 0;
}

// --max-age in seconds, or a usage error.
Result<double> MaxAgeSeconds(const BackupFlags& o) {
  auto age = ParseDuration(o.max_age);
  if (!age) return InvalidArgument("--max-age '" + o.max_age + "': expected a duration like 24h or 90m");
  return static_cast<double>(*age) / 1e6;
}

bool IsDirectory(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What --newest-in names: a pgBackRest repository (backup/ and archive/;
// --stanza, or its only stanza), a Barman server's directory (base/ and
// wals/), else a directory of backups.
Result<std::optional<NightlyRepository>> RepositoryOf(const BackupFlags& o) {
  const std::string& dir = o.newest_in;
  NightlyRepository repo;
  repo.dir = dir;
  if (IsDirectory(dir + "/backup") && IsDirectory(dir + "/archive")) {
    repo.kind = NightlyRepository::Kind::kPgbackrest;
    repo.stanza = o.stanza;
    if (repo.stanza.empty()) {
      std::vector<std::string> stanzas;
      for (const auto& e : std::filesystem::directory_iterator(dir + "/backup")) {
        if (e.is_directory()) stanzas.push_back(e.path().filename());
      }
      if (stanzas.size() != 1) {
        return InvalidArgument("--newest-in " + dir + " is a pgBackRest repository of " +
                               std::to_string(stanzas.size()) + " stanzas: give --stanza");
      }
      repo.stanza = stanzas[0];
    }
    if (!o.cipher_pass_file.empty()) {
      auto pass = ReadPassphrase(o.cipher_pass_file);
      if (!pass.ok()) return pass.status();
      repo.cipher_pass = *pass;
    }
    return std::optional<NightlyRepository>(repo);
  }
  if (!o.stanza.empty() || !o.cipher_pass_file.empty()) {
    return InvalidArgument("--stanza and --cipher-pass-file: --newest-in " + dir +
                           " is not a pgBackRest repository (backup/, archive/)");
  }
  if (IsDirectory(dir + "/base") && IsDirectory(dir + "/wals")) {
    repo.kind = NightlyRepository::Kind::kBarman;
    return std::optional<NightlyRepository>(repo);
  }
  return std::optional<NightlyRepository>();
}

// --newest-in: the nightly checks, of a directory of backups or of a
// backup tool's repository.
int RunNightly(BackupFlags& o) {
  if (!o.dirs.empty()) return Fail(InvalidArgument("give either DIR or --newest-in, not both"));
  if (o.format == "html") return Fail(InvalidArgument("--newest-in: --format text, json or prometheus"));
  auto age = MaxAgeSeconds(o);
  if (!age.ok()) return Fail(age.status());
  o.nightly.max_age_seconds = *age;
  o.nightly.check_compressed = !o.no_decompress;
  o.nightly.jobs = o.backup.jobs;
  auto repo = RepositoryOf(o);
  if (!repo.ok()) return Fail(repo.status());
  if (*repo && o.no_decompress) {
    return Fail(
        InvalidArgument("--no-decompress is for a directory of backup files: a repository's nightly check "
                        "reads no file (verify-backup --pgbackrest/--barman does)"));
  }
  auto r = *repo ? CheckNewestInRepository(**repo, o.nightly) : CheckNewestBackup(o.newest_in, o.nightly);
  if (!r.ok()) return Fail(r.status());
  std::string text = o.format == "json"         ? NightlyJson(*r)
                     : o.format == "prometheus" ? NightlyPrometheus(*r)
                                                : NightlyText(*r);
  if (int rc = Emit(o, text); rc != 0) return rc;
  return ExitCode(r->outcome());
}

// --recovery-window: the oldest retained backup through the newest segment.
int RunRecoveryWindow(BackupFlags& o) {
  if (!o.dirs.empty() || !o.newest_in.empty()) {
    return Fail(InvalidArgument("--recovery-window takes the directory of backups itself, not DIR or --newest-in"));
  }
  if (o.format == "prometheus" || o.format == "html") {
    return Fail(InvalidArgument("--recovery-window: --format text or json"));
  }
  auto age = MaxAgeSeconds(o);
  if (!age.ok()) return Fail(age.status());
  RecoveryWindowOptions w;
  w.source = o.source;
  w.max_age_s = *age;
  w.backup = o.backup;
  auto r = VerifyRecoveryWindow(o.recovery_window, w);
  if (!r.ok()) return Fail(r.status());
  if (int rc = Emit(o, o.format == "json" ? RecoveryWindowJson(*r) : RecoveryWindowText(*r)); rc != 0) return rc;
  return ExitCode(r->outcome());
}

// Several directories: a chain of a full backup and its incremental backups.
int RunChain(const BackupFlags& o) {
  if (o.format == "prometheus" || o.format == "html") {
    return Fail(InvalidArgument("verify-backup: --format " + o.format + " takes one DIR, not a chain"));
  }
  auto c = VerifyBackupChain(o.dirs, o.backup);
  if (!c.ok()) return Fail(c.status());
  if (int rc = Emit(o, o.format == "json" ? BackupChainJson(*c) : BackupChainText(*c)); rc != 0) return rc;
  return ExitCode(c->outcome());
}

// The backup RunOne verifies: a pg_basebackup DIR, a pgBackRest set or a
// Barman backup.
Result<BackupVerification> VerifyTheBackup(const BackupFlags& o) {
  if (!o.barman.empty()) return VerifyBarman(BarmanTarget{o.barman, o.set}, o.backup);
  if (o.pgbackrest.empty()) return VerifyBackup(o.dirs[0], o.backup);
  PgbackrestTarget repo{o.pgbackrest, o.stanza, o.set, ""};
  if (!o.cipher_pass_file.empty()) {
    auto pass = ReadPassphrase(o.cipher_pass_file);
    if (!pass.ok()) return pass.status();
    repo.cipher_pass = *pass;
  }
  return VerifyPgbackrest(repo, o.backup);
}

// One backup: a pg_basebackup DIR, a pgBackRest set (--pgbackrest) or a
// Barman backup (--barman).
int RunOne(BackupFlags& o) {
  const std::string& dir = !o.barman.empty() ? o.barman : o.pgbackrest.empty() ? o.dirs[0] : o.pgbackrest;
  std::optional<double> previous;
  if (o.format == "prometheus" && !o.output.empty()) {
    std::ifstream old(o.output, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
    previous = PreviousBackupSuccess(text, dir);
  }
  o.backup.progress = &o.run.side[0];
  auto display = o.progress.Start("vouch verify-backup", {{"", &o.run.side[0], ProgressUnit::kFiles}}, nullptr,
                                  o.quiet || o.format == "prometheus");
  auto v = VerifyTheBackup(o);
  display.reset();
  if (!v.ok()) return Fail(v.status());
  std::string text = o.format == "json"         ? BackupJson(*v)
                     : o.format == "prometheus" ? BackupPrometheus(*v, previous)
                     : o.format == "html"       ? BackupHtml(*v)
                                                : BackupText(*v);
  if (int rc = Emit(o, text); rc != 0) return rc;
  if (!o.quiet) {
    std::fprintf(stderr, "vouch: read %.1f MB in %.2f s (%.0f MB/s) with %d jobs\n",
                 static_cast<double>(v->bytes) / 1e6, v->seconds,
                 v->seconds > 0 ? static_cast<double>(v->bytes) / 1e6 / v->seconds : 0.0, v->jobs);
  }
  // The ledger's line: the backup's identity (its cluster and start), and
  // its bytes for the "much smaller than the last" canary.
  evidence::LedgerEntry e;
  e.command = "verify-backup";
  e.scope = !o.barman.empty()      ? "Barman " + v->dir
            : o.pgbackrest.empty() ? "base backup " + dir
                                   : "pgBackRest " + o.pgbackrest + " stanza " + o.stanza;
  if (v->system_identifier) e.source["system_identifier"] = std::to_string(*v->system_identifier);
  if (v->start_lsn) e.source["start_lsn"] = FormatLsn(*v->start_lsn);
  if (v->start_tli) e.source["start_timeline"] = std::to_string(*v->start_tli);
  e.source["pg_major"] = std::to_string(v->pg_major);
  const Outcome outcome = v->outcome();
  e.verdict = outcome.Verified() ? "PASS" : !outcome.findings.empty() ? "FAIL" : "INCOMPLETE";
  e.tables = v->files_verified;  // files, for a backup
  e.bytes = v->bytes;
  e.seconds = v->seconds;
  auto anomaly = o.ledger.Append(e, o.sign);
  if (!anomaly.ok()) return Fail(anomaly.status());
  return *anomaly ? 1 : ExitCode(outcome);
}

}  // namespace

Command AddVerifyBackup(CLI::App& app) {
  auto o = std::make_shared<BackupFlags>();
  auto* vbackup = app.add_subcommand(
      "verify-backup",
      "Verify a pg_basebackup (plain or tar format) against its backup_manifest: every file's size and checksum "
      "(CRC32C, SHA-2), extra and missing files, the WAL range it needs, optionally every data page's checksum; or, "
      "with --newest-in, the nightly checks of a backup directory");
  vbackup->footer(
      "Examples:\n"
      "  vouch verify-backup /backups/base --page-checksums --wal-archive /backups/wal\n"
      "  vouch verify-backup --newest-in /backups --max-age 24h "
      "--format prometheus -o /var/lib/node_exporter/vouch.prom");
  vbackup->add_option("DIR", o->dirs,
                      "the base backup directory (plain format, or base.tar[.gz] etc.); several: a chain of a full "
                      "backup and its incremental backups, oldest first");
  vbackup->add_option("-j,--jobs", o->backup.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  vbackup->add_flag("--page-checksums", o->backup.page_checksums, "also check every 8 KB data page's checksum");
  vbackup->add_option("--wal-archive", o->backup.wal_archives,
                      "also look for WAL segments here (plain, .gz, .zst, .lz4, .bz2)");
  vbackup->add_option("--until", o->until, "the WAL must reach this LSN (a PITR target), e.g. 0/5000028");
  vbackup->add_flag("--no-wal", o->no_wal, "do not check WAL");
  vbackup->add_option("--checksums", o->backup.checksums, "also verify this sha256sum/md5sum-style checksum file");
  vbackup->add_option("--ignore", o->backup.ignore, "a relative path to leave out of the checks (repeatable)");
  vbackup->add_option("--pgbackrest", o->pgbackrest,
                      "verify a backup set of this pgBackRest repository (repo1-path) instead of DIR: every file "
                      "decompressed and checked against the set's manifest (size, SHA-1, the repository bytes' SHA-1), "
                      "its pages with --page-checksums, and the WAL it needs from the repository's archive");
  vbackup->add_option("--stanza", o->stanza, "with --pgbackrest: the stanza");
  vbackup->add_option("--set", o->set,
                      "with --pgbackrest: the backup set's label; with --barman SERVER_DIR: the backup ID (default: "
                      "the newest)");
  vbackup->add_option("--cipher-pass-file", o->cipher_pass_file,
                      "with --pgbackrest: a file (mode 600) whose first line is the encrypted repository's "
                      "repo1-cipher-pass; never printed");
  vbackup->add_option("--barman", o->barman,
                      "verify a Barman backup instead of DIR: a server's directory (barman_home/SERVER; its newest "
                      "DONE backup, or --set ID) or one backup's (SERVER/base/ID). Its data against backup_manifest "
                      "(postgres method), or without one (rsync method) every file read and every page's checksum; "
                      "the WAL it needs from the server's wals/");
  vbackup->add_option(
      "--newest-in", o->newest_in,
      "nightly checks instead: the newest backup (file or directory) in this directory; of a pgBackRest "
      "repository (--stanza) or a Barman server's directory, its newest backup on the tool's records "
      "(age, size, every file and WAL segment it needs still there)");
  vbackup->add_option("--max-age", o->max_age,
                      "with --newest-in: the newest backup must be younger; with --recovery-window --source: the "
                      "last archived segment (default 24h)");
  vbackup->add_option("--recovery-window", o->recovery_window,
                      "prove the WAL archive (--wal-archive) continuous from the oldest base backup in this "
                      "directory to the archive's newest segment: the window a point-in-time restore can use");
  vbackup->add_option("--source", o->source,
                      "with --recovery-window: a database whose pg_stat_archiver must show no failure since the last "
                      "success and a last archived segment younger than --max-age");
  vbackup->add_option("--expect", o->nightly.expected,
                      "with --newest-in: a file pattern the backup must contain (repeatable)");
  vbackup
      ->add_option("--min-size", o->nightly.min_size_ratio,
                   "with --newest-in: smallest size relative to the previous backup (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  vbackup->add_option("--name", o->nightly.name_pattern,
                      "with --newest-in: consider only entries matching this pattern");
  vbackup->add_flag("--no-decompress", o->no_decompress,
                    "with --newest-in: do not decompress .gz/.zst/.lz4/.bz2 files");
  vbackup
      ->add_option("--format", o->format,
                   "stdout format: text, json, prometheus (node_exporter textfile) or html (one DIR: a "
                   "self-contained page)")
      ->check(CLI::IsMember({"text", "json", "prometheus", "html"}));
  vbackup->add_option("-o,--output", o->output, "also write the report (--format) to FILE");
  vbackup->add_flag("-q,--quiet", o->quiet, "no run statistics or progress on stderr");
  o->progress.Add(vbackup);
  o->sign.Add(vbackup);
  o->ledger.Add(vbackup);

  return {
      vbackup, [o]() -> int {
        if (Status st = o->sign.Check(o->output, o->format == "json", !o->ledger.file.empty()); !st.ok()) {
          return Fail(st);
        }
        if (!o->barman.empty()) {
          if (!o->pgbackrest.empty() || !o->stanza.empty() || !o->cipher_pass_file.empty()) {
            return Fail(
                InvalidArgument("--barman and --pgbackrest (--stanza, --cipher-pass-file) are two kinds of "
                                "backup: give one"));
          }
          if (!o->dirs.empty() || !o->newest_in.empty() || !o->recovery_window.empty()) {
            return Fail(
                InvalidArgument("--barman verifies one Barman backup: no DIR, --newest-in or "
                                "--recovery-window"));
          }
          if (!o->until.empty()) o->backup.until_lsn = o->until;
          o->backup.skip_wal = o->no_wal;
          return RunOne(*o);
        }
        if (!o->ledger.file.empty() && o->pgbackrest.empty() &&
            (o->dirs.size() != 1 || !o->newest_in.empty() || !o->recovery_window.empty())) {
          return Fail(InvalidArgument("--ledger records the verification of one backup DIR"));
        }
        // --newest-in REPO --stanza NAME: a pgBackRest repository's nightly checks.
        if (!o->newest_in.empty() && o->pgbackrest.empty() && o->set.empty() && o->recovery_window.empty() &&
            o->source.empty()) {
          return RunNightly(*o);
        }
        if (!o->pgbackrest.empty() || !o->stanza.empty() || !o->set.empty() || !o->cipher_pass_file.empty()) {
          if (o->pgbackrest.empty() || o->stanza.empty()) {
            return Fail(InvalidArgument("--pgbackrest REPO and --stanza NAME go together (--set LABEL optionally)"));
          }
          if (!o->dirs.empty() || !o->newest_in.empty() || !o->recovery_window.empty()) {
            return Fail(
                InvalidArgument("--pgbackrest verifies a set of the repository: no DIR, --newest-in or "
                                "--recovery-window"));
          }
          if (!o->until.empty()) o->backup.until_lsn = o->until;
          o->backup.skip_wal = o->no_wal;
          return RunOne(*o);
        }
        if (!o->recovery_window.empty()) return RunRecoveryWindow(*o);
        if (!o->source.empty()) return Fail(InvalidArgument("--source is for --recovery-window"));
        if (!o->newest_in.empty()) return RunNightly(*o);
        if (o->dirs.empty()) return Fail(InvalidArgument("verify-backup: give DIR (or --newest-in DIR)"));
        if (!o->until.empty()) o->backup.until_lsn = o->until;
        o->backup.skip_wal = o->no_wal;
        return o->dirs.size() > 1 ? RunChain(*o) : RunOne(*o);
      }};
}

}  // namespace vouch::cli
