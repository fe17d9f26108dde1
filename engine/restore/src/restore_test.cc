#include "vouch/restore/restore_test.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "base_backup.h"
#include "process.h"
#include "scratch_cluster.h"
#include "vouch/backup/barman.h"
#include "vouch/backup/pgbackrest.h"
#include "vouch/readers/schema_catalog.h"

namespace vouch {
namespace {

using restore::RunProcess;
using restore::Since;

// ";     dbname: shop" of pg_restore -l's header.
std::string HeaderField(const std::string& listing, const std::string& field) {
  size_t from = 0;
  while (from < listing.size() && listing[from] == ';') {
    size_t nl = listing.find('\n', from);
    if (nl == std::string::npos) nl = listing.size();
    std::string_view line(listing.data() + from + 1, nl - from - 1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.starts_with(field + ": ")) return std::string(line.substr(field.size() + 2));
    from = nl + 1;
  }
  return {};
}

// pg_restore's errors: each "pg_restore: error: ..." line with the lines
// after it that are not pg_restore's own (its "Command was: ..." and the
// statement).
std::vector<std::string> RestoreErrors(const std::string& err) {
  std::vector<std::string> out;
  bool in_error = false;
  size_t from = 0;
  while (from < err.size()) {
    size_t nl = err.find('\n', from);
    if (nl == std::string::npos) nl = err.size();
    const std::string line = err.substr(from, nl - from);
    from = nl + 1;
    if (line.rfind("pg_restore: error: ", 0) == 0) {
      out.push_back(line.substr(19));
      in_error = true;
    } else if (line.rfind("pg_restore: ", 0) == 0) {
      in_error = false;
    } else if (in_error && !line.empty()) {
      out.back() += "\n" + line;
    }
  }
  return out;
}

// The source cluster's bootstrap superuser, as the globals file has it: the
// first role it makes a superuser ("ALTER ROLE name WITH SUPERUSER ...").
// The scratch cluster's is named the same, so that it is not a role the
// source lacks. "postgres" without a file, or without a superuser in it.
Result<std::string> SourceSuperuser(const std::string& globals) {
  if (globals.empty()) return std::string("postgres");
  std::ifstream in(globals);
  if (!in) return IoError(globals + ": cannot read the globals file");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("ALTER ROLE ")) continue;
    size_t pos = 11;
    std::string name;
    if (!sqlident::Read(line, &pos, &name)) continue;
    if (line.compare(pos, 16, " WITH SUPERUSER ") == 0 || line.compare(pos, 16, " WITH SUPERUSER;") == 0) return name;
  }
  return std::string("postgres");
}

// Where the scratch cluster goes, and who runs it (as root: --run-as, else
// postgres; initdb and the server refuse root).
Result<restore::ScratchOptions> ScratchBase(const RestoreTestOptions& options) {
  restore::ScratchOptions so;
  so.parent = options.scratch_parent;
  so.keep = options.keep;
  if (geteuid() == 0) {
    auto as = restore::LookUpUser(options.run_as.empty() ? "postgres" : options.run_as);
    if (!as.ok()) return InvalidArgument(as.status().message() + " (run as root: name one with --run-as)");
    so.as = *as;
  }
  return so;
}

// A program on PATH, as a path (RunProcess takes one); "" when none.
std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    const size_t colon = std::min(dirs.find(':', at), dirs.size());
    const std::string candidate = dirs.substr(at, colon - at) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    at = colon + 1;
  }
  return "";
}

// A pgBackRest set: `pgbackrest restore` into a staging directory beside
// the scratch cluster (run as this user, with no configuration file but
// the repository's options), the set's WAL exported from the archive, and
// the result restored as a base backup: copied, recovered, proven. The
// tool's restore and the export are phases of the RTO too.
Result<RestoreTestReport> RunPgbackrestTest(const RestoreTestOptions& options, const restore::ScratchOptions& scratch) {
  namespace fs = std::filesystem;
  using Clock = std::chrono::steady_clock;
  const auto& p = options.pgbackrest;
  if (!options.backup.empty() || !options.wal_archive.empty()) {
    return InvalidArgument("--pgbackrest restores a set of the repository: no BACKUP or --wal-archive");
  }
  if (p.stanza.empty()) return InvalidArgument("--pgbackrest REPO needs --stanza NAME");
  const std::string tool = OnPath("pgbackrest");
  if (tool.empty()) return InvalidArgument("pgbackrest is not on PATH: the set restores with its own tool");
  std::string stage = (fs::path(scratch.parent) / "vouch-pgbackrest.XXXXXX").string();
  if (mkdtemp(stage.data()) == nullptr) return IoError(stage + ": cannot make it: " + std::strerror(errno));
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove{stage};
  std::error_code ec;
  // The server's user follows the staged WAL's links into it (search only).
  fs::permissions(stage, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
  fs::create_directory(stage + "/data", ec);  // pgbackrest restores into an empty directory that exists
  fs::permissions(stage + "/data", fs::perms::owner_all, ec);
  const std::string conf = stage + "/pgbackrest.conf";
  std::ofstream(conf) << "[global]\n";
  std::vector<std::string> argv = {tool,
                                   "--config=" + conf,
                                   "--stanza=" + p.stanza,
                                   "--repo1-path=" + p.repo,
                                   "--pg1-path=" + stage + "/data",
                                   "--log-path=" + stage,
                                   "--lock-path=" + stage,
                                   "--log-level-console=error",
                                   "--log-level-file=off",
                                   "--type=none"};
  if (!p.set.empty()) argv.push_back("--set=" + p.set);
  if (!p.cipher_pass.empty()) {
    argv.push_back("--repo1-cipher-type=aes-256-cbc");
    setenv("PGBACKREST_REPO1_CIPHER_PASS", p.cipher_pass.c_str(), 1);  // not on the command line (ps)
  }
  argv.push_back("restore");
  std::vector<RestorePhase> phases;
  auto t = Clock::now();
  if (options.progress != nullptr) options.progress->SetPhase("pgbackrest restore");
  auto restored = restore::RunProcess(argv);
  if (!p.cipher_pass.empty()) unsetenv("PGBACKREST_REPO1_CIPHER_PASS");
  if (!restored.ok()) return restored.status();
  if (restored->exit_code != 0) {
    return IoError("pgbackrest restore of stanza " + p.stanza + " from " + p.repo + " failed (exit " +
                   std::to_string(restored->exit_code) + "): " + restored->err + restored->out);
  }
  phases.push_back({"pgbackrest restore", restore::Since(t)});
  t = Clock::now();
  if (options.progress != nullptr) options.progress->SetPhase("export WAL");
  fs::create_directory(stage + "/wal", ec);
  auto exported = ExportPgbackrestWal(PgbackrestTarget{p.repo, p.stanza, p.set, p.cipher_pass}, stage + "/wal");
  if (!exported.ok()) return exported.status();
  phases.push_back({"export WAL", restore::Since(t)});
  RestoreTestOptions base = options;
  base.backup = stage + "/data";
  base.wal_archive = stage + "/wal";
  auto r = restore::RunBaseBackupTest(base, scratch);
  if (!r.ok()) return r;
  r->kind = "pgBackRest set";
  r->backup = p.repo + " stanza " + p.stanza + (p.set.empty() ? " (newest set)" : " set " + p.set);
  if (r->recovery) r->recovery->wal_archive = p.repo + "/archive/" + p.stanza;
  r->phases.insert(r->phases.begin(), phases.begin(), phases.end());
  r->rto_us = 0;
  for (const auto& ph : r->phases) r->rto_us += ph.us;
  return r;
}

}  // namespace

bool RestoreTestReport::AllDrilled() const {
  return !databases.empty() &&
         std::all_of(databases.begin(), databases.end(), [](const RestoredDatabase& d) { return d.drill.has_value(); });
}

Outcome RestoreTestReport::DrillOutcome() const {
  Outcome all;
  for (const auto& d : databases) {
    if (!d.drill) continue;
    Outcome o = d.drill->outcome();
    const std::string of = databases.size() > 1 ? "database " + d.name + ": " : "";
    for (auto& f : o.findings) {
      f.subject = of + f.subject;
      all.findings.push_back(std::move(f));
    }
    for (auto& u : o.unverified) all.unverified.push_back(of + u);
  }
  return all;
}

bool RestoreTestReport::Passed() const {
  return RestoreClean() && AllDrilled() && DrillOutcome().Verified() && RtoMet();
}

Result<RestoreTestReport> RunRestoreTest(const RestoreTestOptions& options) {
  auto scratch = ScratchBase(options);
  if (!scratch.ok()) return scratch.status();
  if (!options.pgbackrest.repo.empty()) return RunPgbackrestTest(options, *scratch);
  if (IsBarmanDirectory(options.backup)) {
    // A Barman backup: its data/ restored as a base backup, recovered from
    // its server's wals/.
    if (!options.wal_archive.empty()) {
      return InvalidArgument(options.backup + ": a Barman backup recovers from its server's wals/: no --wal-archive");
    }
    auto where = LocateBarmanBackup(BarmanTarget{options.backup, ""});
    if (!where.ok()) return where.status();
    if (where->info.status != "DONE") {
      return InvalidArgument(where->backup_dir + ": Barman's status for it is " + where->info.status +
                             ", not DONE: there is no backup to restore");
    }
    RestoreTestOptions barman = options;
    barman.backup = where->backup_dir + "/data";
    barman.wal_archive = where->server_dir + "/wals";
    barman.tablespaces = where->tablespaces;
    auto r = restore::RunBaseBackupTest(barman, *scratch);
    if (!r.ok()) return r;
    r->kind = "Barman backup";
    r->backup = where->backup_dir;
    return r;
  }
  if (restore::IsBaseBackup(options.backup)) return restore::RunBaseBackupTest(options, *scratch);
  if (!options.wal_archive.empty() || !options.expect.empty() || !options.target.manifest.empty() ||
      !options.source.empty() || options.target.kind != RecoveryTarget::kLatest) {
    return InvalidArgument(
        options.backup +
        ": --wal-archive, --expect, --source and the recovery targets are for a base backup (a directory "
        "with backup_label); a pg_dump archive is proven against itself");
  }
  RestoreTestReport r;
  r.backup = options.backup;
  r.globals = options.globals;
  r.rto_target_us = options.rto_target_us;
  r.pg_bin = options.pg_bin.empty() ? restore::FindServerBinDir() : options.pg_bin;
  if (r.pg_bin.empty()) {
    return InvalidArgument("no PostgreSQL server found in /usr/lib/postgresql: name its bin directory with --pg-bin");
  }
  const std::string pg_restore = r.pg_bin + "/pg_restore";
  if (access(pg_restore.c_str(), X_OK) != 0) return InvalidArgument(pg_restore + ": no such program");
  if (!std::filesystem::exists(options.backup)) return IoError(options.backup + ": no such file or directory");
  // pg_restore -l reads the archive's header and table of contents: its
  // format, and the database's name.
  auto listing = RunProcess({pg_restore, "-l", options.backup});
  if (!listing.ok()) return listing.status();
  if (listing->exit_code != 0) {
    const auto errors = RestoreErrors(listing->err);
    return InvalidArgument(options.backup +
                           ": pg_restore cannot read it (a plain dump is restored with psql, not pg_restore): " +
                           (errors.empty() ? listing->err : errors.front()));
  }
  RestoredDatabase& db = r.databases.emplace_back();
  db.name = HeaderField(listing->out, "dbname");
  const std::string format = HeaderField(listing->out, "Format");
  if (db.name.empty()) return Corrupt(options.backup + ": pg_restore -l names no database");

  auto superuser = SourceSuperuser(options.globals);
  if (!superuser.ok()) return superuser.status();
  restore::ScratchOptions so = *scratch;
  so.superuser = *superuser;
  so.bin_dir = r.pg_bin;
  auto phase = [&](const char* name, std::chrono::steady_clock::time_point t) { r.phases.push_back({name, Since(t)}); };
  auto begin = [&](const char* name) {
    if (options.progress != nullptr) options.progress->SetPhase(name);
    return std::chrono::steady_clock::now();
  };
  auto t = begin("initdb");
  auto cluster = restore::ScratchCluster::Create(so);
  if (!cluster.ok()) return cluster.status();
  phase("initdb", t);
  t = begin("server start");
  VOUCH_RETURN_IF_ERROR((*cluster)->Start());
  phase("server start", t);
  r.server_version = (*cluster)->server_version();

  if (!options.globals.empty()) {
    t = begin("globals");
    auto g =
        RunProcess({r.pg_bin + "/psql", "-X", "-q", "-d", (*cluster)->Conninfo("postgres"), "-f", options.globals});
    if (!g.ok()) return g.status();
    phase("globals", t);
    size_t from = 0;
    while (from < g->err.size()) {
      size_t nl = g->err.find('\n', from);
      if (nl == std::string::npos) nl = g->err.size();
      const std::string line = g->err.substr(from, nl - from);
      from = nl + 1;
      if (line.find("ERROR:") != std::string::npos &&
          line.find("role \"" + so.superuser + "\" already exists") == std::string::npos) {
        r.globals_errors.push_back(line);
      }
    }
    if (g->exit_code != 0 && r.globals_errors.empty()) {
      r.globals_errors.push_back("psql exited with " + std::to_string(g->exit_code) + ": " + g->err);
    }
  }

  // --create: the database comes back under its own name, with its own
  // encoding, locale and settings, as a real restore brings it.
  t = begin("pg_restore");
  const int jobs = format == "TAR" ? 1 : std::max(1, options.jobs);  // a tar archive restores serially
  auto restored = RunProcess(
      {pg_restore, "--create", "-j", std::to_string(jobs), "-d", (*cluster)->Conninfo("postgres"), options.backup});
  if (!restored.ok()) return restored.status();
  phase("pg_restore", t);
  r.pg_restore_exit = restored->exit_code;
  r.pg_restore_errors = RestoreErrors(restored->err);
  if (r.pg_restore_exit != 0 && r.pg_restore_errors.empty()) {
    r.pg_restore_errors.push_back("pg_restore exited with " + std::to_string(r.pg_restore_exit) + ": " + restored->err);
  }

  t = begin("verify");
  DrillOptions drill_options = options.drill;
  drill_options.compare.progress = options.progress;
  if (!options.globals.empty()) drill_options.source_globals = options.globals;
  auto drill = RunDrill(options.backup, (*cluster)->Conninfo(db.name), drill_options);
  phase("verify", t);
  if (drill.ok()) {
    db.drill = std::move(drill).value();
  } else if (r.RestoreClean()) {
    return drill.status();  // the restore went through: why vouch could not check it is an error
  }
  // A restore that failed early (no database to read) is reported by its
  // pg_restore errors.
  for (const auto& p : r.phases) r.rto_us += p.us;
  return r;
}

}  // namespace vouch
