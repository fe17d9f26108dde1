// verify-backup --newest-in on a pgBackRest repository or a Barman server
// directory: the nightly checks on the tool's own records.
#include <chrono>

#include "vouch/backup/barman.h"
#include "vouch/backup/nightly_backup.h"
#include "vouch/backup/pgbackrest.h"

namespace vouch {
namespace {

NightlyCheck Check(NightlyCheck::Kind kind, bool ok, std::string subject = "") {
  NightlyCheck c;
  c.kind = kind;
  c.ok = ok;
  c.subject = std::move(subject);
  return c;
}

// "complete": `present` of `needed`, the first missing named; with nothing
// needed (nothing could be counted), `missing` says why.
NightlyCheck Complete(const std::string& subject, uint64_t present, uint64_t needed,
                      const std::vector<std::string>& missing) {
  NightlyCheck c = Check(NightlyCheck::Kind::kComplete, present == needed && needed > 0, subject);
  c.matches = present;
  c.needed = needed;
  for (const auto& m : missing) c.damage += (c.damage.empty() ? "" : "; ") + m;
  if (needed == 0 && c.damage.empty()) c.damage = "none listed";
  if (needed > present && needed - present > missing.size()) {
    c.damage += "; and " + std::to_string(needed - present - missing.size()) + " more";
  }
  return c;
}

void AgeAndSize(NightlyReport& r, const NightlyOptions& o, double now, double stop, bool have_previous) {
  r.newest_mtime = stop;
  r.age_seconds = now - stop;
  r.checks.push_back(Check(NightlyCheck::Kind::kAge, stop > 0 && r.age_seconds <= o.max_age_seconds));
  if (o.min_size_ratio <= 0) return;
  const double ratio = !have_previous || r.previous_bytes == 0
                           ? 1.0
                           : static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes);
  r.checks.push_back(Check(NightlyCheck::Kind::kSize, ratio >= o.min_size_ratio));
}

Status Pgbackrest(const NightlyRepository& repo, const NightlyOptions& o, double now, NightlyReport& r) {
  r.repository = "pgBackRest stanza " + repo.stanza;
  auto p = InspectPgbackrestSet(PgbackrestTarget{repo.dir, repo.stanza, "", repo.cipher_pass});
  if (!p.ok()) return p.status();
  r.checks.push_back(Check(NightlyCheck::Kind::kExists, !p->set.label.empty()));
  if (p->set.label.empty()) return Status::Ok();
  r.newest = p->dir;
  r.newest_is_dir = true;
  r.newest_bytes = p->set.size;
  r.newest_files = p->files_listed;
  if (p->previous) {
    r.previous = r.parent_dir + "/backup/" + repo.stanza + "/" + p->previous->label;
    r.previous_bytes = p->previous->size;
  }
  AgeAndSize(r, o, now, static_cast<double>(p->set.timestamp_stop), p->previous.has_value());
  if (!p->manifest_problem.empty()) {
    r.checks.push_back(Complete("files", 0, 0, {"backup.manifest: " + p->manifest_problem}));
    return Status::Ok();
  }
  r.checks.push_back(Complete("files", p->files_present, p->files_listed, p->files_missing));
  r.checks.push_back(
      Complete("WAL " + p->wal_first + " … " + p->wal_last, p->wal_present, p->wal_needed, p->wal_missing));
  return Status::Ok();
}

Status Barman(const NightlyRepository& repo, const NightlyOptions& o, double now, NightlyReport& r) {
  auto p = InspectNewestBarmanBackup(repo.dir);
  if (!p.ok()) return p.status();
  r.repository = "Barman server " + r.parent_dir.substr(r.parent_dir.find_last_of('/') + 1);
  r.checks.push_back(Check(NightlyCheck::Kind::kExists, !p->id.empty()));
  if (p->id.empty()) return Status::Ok();
  r.newest = p->dir;
  r.newest_is_dir = true;
  auto size = p->info.fields.find("size");
  if (size != p->info.fields.end()) r.newest_bytes = std::strtoull(size->second.c_str(), nullptr, 10);
  r.newest_files = p->files_listed;
  if (!p->previous_id.empty()) {
    r.previous = r.parent_dir + "/base/" + p->previous_id;
    r.previous_bytes = p->previous_size;
  }
  AgeAndSize(r, o, now, p->end_time, !p->previous_id.empty());
  if (p->info.status != "DONE") {
    r.checks.push_back(Complete(
        "files", 0, 0, {"status " + p->info.status + (p->info.error.empty() ? "" : " (" + p->info.error + ")")}));
    return Status::Ok();
  }
  r.checks.push_back(Complete("files", p->files_present, p->files_listed, p->files_missing));
  r.checks.push_back(
      Complete("WAL " + p->info.begin_wal + " … " + p->info.end_wal, p->wal_present, p->wal_needed, p->wal_missing));
  return Status::Ok();
}

}  // namespace

Result<NightlyReport> CheckNewestInRepository(const NightlyRepository& repo, const NightlyOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.min_size_ratio < 0 || options.max_age_seconds < 0) {
    return InvalidArgument("max age and minimum size ratio must not be negative");
  }
  if (!options.expected.empty()) return InvalidArgument("--expect is for a directory of backup files");
  if (!options.name_pattern.empty()) return InvalidArgument("--name is for a directory of backup files");
  const double now = options.now
                         ? options.now()
                         : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  NightlyReport r;
  r.parent_dir = repo.dir;
  while (r.parent_dir.size() > 1 && r.parent_dir.back() == '/') r.parent_dir.pop_back();
  r.max_age_seconds = options.max_age_seconds;
  r.min_size_ratio = options.min_size_ratio;
  VOUCH_RETURN_IF_ERROR(repo.kind == NightlyRepository::Kind::kPgbackrest ? Pgbackrest(repo, options, now, r)
                                                                          : Barman(repo, options, now, r));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.finished_at = now;
  return r;
}

}  // namespace vouch
