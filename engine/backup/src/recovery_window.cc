// verify-backup --recovery-window: the oldest retained base backup verified
// with its WAL required through the archive's newest segment, and the
// server's archiver statistics.
#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vouch/backup/verify_backup.h"
#include "vouch/readers/backup_label.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Where a backup's WAL starts: its manifest's WAL range (plain and tar
// backups both have one), else its backup_label; an error says why neither.
Result<RetainedBackup> BackupStart(const fs::path& dir) {
  RetainedBackup b;
  b.dir = dir.string();
  if (auto text = ReadText(dir / "backup_manifest")) {
    auto m = ParseBackupManifest(*text);
    if (!m.ok()) return Status(m.status().code(), "backup_manifest: " + m.status().message());
    if (m->wal_ranges.empty()) return Corrupt("backup_manifest lists no WAL range");
    auto oldest = std::min_element(m->wal_ranges.begin(), m->wal_ranges.end(),
                                   [](const auto& x, const auto& y) { return x.start_lsn < y.start_lsn; });
    b.start_lsn = oldest->start_lsn;
    b.timeline = oldest->timeline;
    return b;
  }
  if (auto text = ReadText(dir / "backup_label")) {
    auto label = ParseBackupLabel(*text);
    if (!label.ok()) return Status(label.status().code(), "backup_label: " + label.status().message());
    if (!label->start_lsn || !label->start_tli) return Corrupt("backup_label has no START WAL LOCATION");
    b.start_lsn = *label->start_lsn;
    b.timeline = *label->start_tli;
    return b;
  }
  return Unsupported("no backup_manifest or backup_label");
}

// The newest segment of the archives (highest segment, then timeline), and
// the segment size its long page header states.
struct NewestSegment {
  std::string path, name;
  WalFileName parsed;  // `name`'s parts
  uint32_t timeline = 0, segment_size = 0;
  uint64_t segno = 0;
};

Result<NewestSegment> FindNewestSegment(const std::vector<std::string>& archives) {
  NewestSegment n;
  std::pair<std::string, uint32_t> best;  // (log+seg hex digits, timeline): orders as the segments do
  for (const auto& dir : archives) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return IoError(dir + ": cannot list the WAL archive: " + ec.message());
    for (const auto& e : it) {
      const std::string file = e.path().filename().string();
      auto name = ParseWalFileName(file);
      if (!name || name->kind != WalFileName::kSegment) continue;
      std::pair<std::string, uint32_t> key{name->base.substr(8), name->timeline};
      if (n.path.empty() || key > best) {
        best = key;
        n.path = e.path().string();
        n.name = name->base;
        n.parsed = *name;
        n.timeline = name->timeline;
      }
    }
  }
  if (n.path.empty()) return InvalidArgument("no WAL segment in the archive (--wal-archive)");
  // XLogLongPageHeaderData: xlp_seg_size at offset 32, little-endian.
  auto src = OpenDecodedFile(n.path);
  if (!src.ok()) return src.status();
  auto head = ReadPrefix(**src, 40);
  if (!head.ok()) return head.status();
  if (head->size() < 40) return Truncated(n.path + ": shorter than a WAL segment's long page header");
  uint32_t size = 0;
  std::memcpy(&size, head->data() + 32, 4);
  if (!IsValidWalSegmentSize(size)) return Corrupt(n.path + ": its long page header states no valid segment size");
  n.segment_size = size;
  auto segno = WalSegmentNumber(n.parsed, size);
  if (!segno)
    return Corrupt(n.path + ": a segment name out of range for " + std::to_string(size >> 20) + " MB segments");
  n.segno = *segno;
  return n;
}

Result<ArchiverStatus> ReadArchiver(const std::string& conninfo) {
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), "vouch", nullptr};
  PGconn* pg = PQconnectdbParams(keys, values, 1);
  auto fail = [&](const std::string& what) {
    std::string msg = PQerrorMessage(pg);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(pg);
    return ConnectionError("--source: " + what + ": " + msg);
  };
  if (PQstatus(pg) != CONNECTION_OK) return fail("cannot connect");
  PGresult* r = PQexec(pg,
                       "SELECT archived_count, failed_count, coalesce(last_archived_wal, ''), "
                       "coalesce(to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), "
                       "coalesce(last_failed_wal, ''), "
                       "coalesce(to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), "
                       "coalesce(extract(epoch FROM now() - last_archived_time)::float8, -1) "
                       "FROM pg_catalog.pg_stat_archiver");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    PQclear(r);
    return fail("cannot read pg_stat_archiver");
  }
  ArchiverStatus a;
  a.archived_count = std::atoll(PQgetvalue(r, 0, 0));
  a.failed_count = std::atoll(PQgetvalue(r, 0, 1));
  a.last_archived_wal = PQgetvalue(r, 0, 2);
  a.last_archived_time = PQgetvalue(r, 0, 3);
  a.last_failed_wal = PQgetvalue(r, 0, 4);
  a.last_failed_time = PQgetvalue(r, 0, 5);
  a.last_archived_age_s = std::atof(PQgetvalue(r, 0, 6));
  PQclear(r);
  PQfinish(pg);
  return a;
}

}  // namespace

Outcome RecoveryWindow::outcome() const {
  Outcome o = oldest.outcome();
  for (const auto& f : findings) o.findings.push_back(f);
  return o;
}

Result<RecoveryWindow> VerifyRecoveryWindow(const std::string& backups_dir, const RecoveryWindowOptions& options) {
  if (options.backup.wal_archives.empty())
    return InvalidArgument("--recovery-window needs the WAL archive: --wal-archive DIR");
  RecoveryWindow w;
  w.backups_dir = backups_dir;
  std::error_code ec;
  fs::directory_iterator it(backups_dir, ec);
  if (ec) return IoError(backups_dir + ": cannot list it: " + ec.message());
  std::vector<fs::path> entries;
  for (const auto& e : it) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    const std::string name = path.filename().string();
    if (!fs::is_directory(path, ec)) {
      w.not_backups.push_back(name + ": not a directory");
      continue;
    }
    auto b = BackupStart(path);
    if (!b.ok()) {
      w.not_backups.push_back(name + ": " + b.status().message());
      continue;
    }
    w.backups.push_back(std::move(b).value());
  }
  if (w.backups.empty())
    return InvalidArgument(backups_dir + ": no base backup in it (a backup_manifest or backup_label)");
  std::stable_sort(w.backups.begin(), w.backups.end(),
                   [](const RetainedBackup& x, const RetainedBackup& y) { return x.start_lsn < y.start_lsn; });

  auto newest = FindNewestSegment(options.backup.wal_archives);
  if (!newest.ok()) return newest.status();
  w.newest_segment = newest->name;
  w.start_lsn = w.backups.front().start_lsn;
  w.end_lsn = (newest->segno + 1) * newest->segment_size;

  // The oldest backup, with its WAL required through the newest segment's
  // start: every segment of the window, followed across timelines.
  VerifyBackupOptions vo = options.backup;
  vo.skip_wal = false;
  vo.until_lsn = FormatLsn(newest->segno * newest->segment_size);
  auto oldest = VerifyBackup(w.backups.front().dir, vo);
  if (!oldest.ok()) return oldest.status();
  w.oldest = std::move(oldest).value();

  if (!options.source.empty()) {
    auto a = ReadArchiver(options.source);
    if (!a.ok()) return a.status();
    w.archiver = *a;
    if (!a->last_failed_time.empty() &&
        (a->last_archived_time.empty() || a->last_failed_time > a->last_archived_time)) {
      w.findings.push_back(
          {FindingKind::kArchiver, a->last_failed_wal,
           "archiving fails: the last failure (" + a->last_failed_time + ") is after the last success" +
               (a->last_archived_time.empty() ? std::string(" (none)") : " (" + a->last_archived_time + ")")});
    }
    if (a->last_archived_time.empty()) {
      w.findings.push_back({FindingKind::kArchiver, "pg_stat_archiver", "no segment archived yet"});
    } else if (a->last_archived_age_s > options.max_age_s) {
      w.findings.push_back(
          {FindingKind::kArchiver, a->last_archived_wal,
           "the last archived segment is " + std::to_string(static_cast<int64_t>(a->last_archived_age_s)) +
               " s old, more than --max-age (" + std::to_string(static_cast<int64_t>(options.max_age_s)) + " s)"});
    }
  }
  return w;
}

}  // namespace vouch
