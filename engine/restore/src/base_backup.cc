// restore-test of a plain base backup: copy, WAL staged from the archive,
// recovery by the server to the target, then the drill against the expected
// manifest. Failures the server or the archive cause are named in the
// report (exit 1); errors are for what stops vouch from testing at all.
#include "base_backup.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "process.h"
#include "scratch_cluster.h"
#include "vouch/base/civil_time.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/source.h"
#include "vouch/readers/backup_label.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/wal.h"

namespace vouch::restore {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t Since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot read it");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The major version of a server's binaries: "postgres (PostgreSQL) 15.18 ...".
int BinaryMajor(const std::string& bin_dir, std::string* line) {
  auto v = RunProcess({bin_dir + "/postgres", "--version"});
  if (!v.ok() || v->exit_code != 0) return 0;
  *line = v->out.substr(0, v->out.find('\n'));
  const size_t at = line->find(") ");
  return at == std::string::npos ? 0 : std::atoi(line->c_str() + at + 2);
}

// What the archive holds: the segments by (timeline, number), compressed or
// not, and the history files.
struct ArchiveFile {
  std::string file;  // its name in the archive
  bool compressed = false;
};
struct Archive {
  std::map<std::pair<uint64_t, uint32_t>, ArchiveFile> segments;  // (segno, timeline)
  std::vector<std::string> histories;
  uint64_t max_segno = 0;
  bool any = false;
};

Result<Archive> ListArchive(const std::string& dir, uint32_t segment_size) {
  Archive a;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return IoError(dir + ": cannot list the WAL archive: " + ec.message());
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    auto parsed = ParseWalFileName(name);
    if (!parsed) continue;
    if (parsed->kind == WalFileName::kHistory) {
      a.histories.push_back(name);
      continue;
    }
    if (parsed->kind != WalFileName::kSegment) continue;
    auto segno = WalSegmentNumber(*parsed, segment_size);
    if (!segno) continue;
    auto& slot = a.segments[{*segno, parsed->timeline}];
    // A plain copy beats a compressed one of the same segment.
    if (slot.file.empty() || parsed->compression.empty()) slot = {name, !parsed->compression.empty()};
    a.max_segno = std::max(a.max_segno, *segno);
    a.any = true;
  }
  return a;
}

bool HasSegment(const Archive& a, uint64_t segno, uint32_t min_timeline) {
  auto it = a.segments.lower_bound({segno, min_timeline});
  return it != a.segments.end() && it->first.first == segno;
}

uint64_t TreeBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

Status ChownTree(const std::string& dir, const RunAs& as) {
  if (!as.set) return Status::Ok();
  auto own = [&](const fs::path& p) -> Status {
    if (lchown(p.c_str(), as.uid, as.gid) != 0) return IoError(p.string() + ": cannot give it to the server's user");
    return Status::Ok();
  };
  VOUCH_RETURN_IF_ERROR(own(dir));
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    VOUCH_RETURN_IF_ERROR(own(it->path()));
  }
  if (ec) return IoError(dir + ": " + ec.message());
  return Status::Ok();
}

// A compressed segment decompressed to `to` (the server reads plain ones).
Status Decompress(const std::string& from, const std::string& to) {
  auto src = OpenDecodedFile(from);
  if (!src.ok()) return src.status();
  std::ofstream out(to, std::ios::binary);
  if (!out) return IoError(to + ": cannot write it");
  std::string buf(1 << 20, '\0');
  for (;;) {
    auto n = ReadUpTo(**src, buf.data(), buf.size());
    if (!n.ok()) return Status(n.status().code(), from + ": " + n.status().message());
    if (*n == 0) break;
    out.write(buf.data(), static_cast<std::streamsize>(*n));
  }
  out.close();
  if (!out) return IoError(to + ": cannot write it");
  return Status::Ok();
}

// Whether user `as` may read the file by its mode bits (the caller's own
// files when `as` is not set).
bool ReadableBy(const std::string& path, const RunAs& as) {
  if (!as.set) return access(path.c_str(), R_OK) == 0;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return false;
  if (st.st_uid == as.uid) return (st.st_mode & S_IRUSR) != 0;
  if (st.st_gid == as.gid) return (st.st_mode & S_IRGRP) != 0;
  return (st.st_mode & S_IROTH) != 0;
}

std::string ConfQuote(const std::string& s) {  // a postgresql.conf string value
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The lines of the server's log that tell how recovery went.
struct LogFacts {
  std::string redo_done;   // LSN
  std::string stop;        // "recovery stopping before ..."
  std::string wal_damage;  // "invalid record length at ...", "incorrect resource manager data checksum ..."
  std::string copy_error;  // restore_command's cp failing other than on a file that is not there
  std::vector<std::string> fatal;
};

LogFacts ReadLog(const std::string& path) {
  LogFacts f;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto after = [&](std::string_view key) -> std::string {
      const size_t at = line.find(key);
      return at == std::string::npos ? std::string() : line.substr(at + key.size());
    };
    if (line.starts_with("cp: ") && line.find("cannot stat") == std::string::npos) {
      f.copy_error = "restore_command: " + line;
    } else if (std::string s = after("redo done at "); !s.empty()) {
      f.redo_done = s.substr(0, s.find(' '));
    } else if (std::string s = after("LOG:  recovery stopping "); !s.empty()) {
      f.stop = "recovery stopping " + s;
    } else if (line.find("FATAL:  ") != std::string::npos || line.find("PANIC:  ") != std::string::npos) {
      f.fatal.push_back(line.substr(line.find(":  ") + 3));
    } else if (std::string s = after("LOG:  ");
               !s.empty() && (s.starts_with("invalid ") || s.starts_with("incorrect ") ||
                              s.starts_with("unexpected pageaddr") || s.starts_with("record with incorrect") ||
                              s.starts_with("missing contrecord") || s.starts_with("contrecord is requested"))) {
      f.wal_damage = s;
    }
  }
  return f;
}

// The unlogged tables of the restored database, as (schema, name); none
// when it cannot be read (the drill then says why).
std::set<std::pair<std::string, std::string>> UnloggedTables(const std::string& conninfo) {
  std::set<std::pair<std::string, std::string>> out;
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) == CONNECTION_OK) {
    PGresult* r = PQexec(pg,
                         "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
                         "n.oid = c.relnamespace WHERE c.relpersistence = 'u' AND c.relkind = 'r'");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.insert({PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)});
    }
    PQclear(r);
  }
  PQfinish(pg);
  return out;
}

// Waits until the server has left recovery (recovery_target_action =
// promote), or is gone. Fills the last replayed commit's time.
Status WaitForPromotion(const std::string& conninfo, RecoveryReport* rec, bool* promoted) {
  *promoted = false;
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) {
    PQfinish(pg);
    return Status::Ok();  // the server is gone: its log says why
  }
  for (;;) {
    PGresult* r = PQexec(pg,
                         "SELECT pg_catalog.pg_is_in_recovery(), "
                         "to_char(pg_catalog.pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      break;
    }
    const bool in_recovery = std::string_view(PQgetvalue(r, 0, 0)) == "t";
    rec->last_commit = PQgetvalue(r, 0, 1);
    PQclear(r);
    if (!in_recovery) {
      *promoted = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  PQfinish(pg);
  return Status::Ok();
}

}  // namespace

bool IsBaseBackupDir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "backup_label", ec) &&
         fs::exists(fs::path(path) / "PG_VERSION", ec);
}

Result<RestoreTestReport> RunBaseBackupTest(const RestoreTestOptions& options, const ScratchOptions& base) {
  RestoreTestReport r;
  r.kind = "base backup";
  r.backup = options.backup;
  r.rto_target_us = options.rto_target_us;
  RecoveryReport& rec = r.recovery.emplace();
  rec.wal_archive = options.wal_archive;
  const fs::path backup(options.backup);

  // What the backup is: its version, segment size, start.
  auto version_text = ReadSmallFile((backup / "PG_VERSION").string());
  if (!version_text.ok()) return version_text.status();
  const int major = std::atoi(version_text->c_str());
  auto control_bytes = ReadSmallFile((backup / "global" / "pg_control").string());
  if (!control_bytes.ok()) return control_bytes.status();
  auto control = ParseControlFile(*control_bytes);
  if (!control.ok())
    return Status(control.status().code(), options.backup + "/global/pg_control: " + control.status().message());
  const uint32_t segment_size = control->xlog_seg_size;
  if (!IsValidWalSegmentSize(segment_size))
    return Corrupt(options.backup + "/global/pg_control: no valid WAL segment size");
  auto label_text = ReadSmallFile((backup / "backup_label").string());
  if (!label_text.ok()) return label_text.status();
  auto label = ParseBackupLabel(*label_text);
  if (!label.ok()) return Status(label.status().code(), options.backup + "/backup_label: " + label.status().message());
  if (!label->start_lsn || !label->start_tli) return Corrupt(options.backup + "/backup_label: no START WAL LOCATION");
  if (label->incremental_from_lsn) {
    return Unsupported(options.backup +
                       ": an incremental backup restores only combined with its chain (pg_combinebackup)");
  }
  rec.start_lsn = FormatLsn(*label->start_lsn);

  // The server: the backup's major version.
  r.pg_bin = options.pg_bin.empty() ? "/usr/lib/postgresql/" + std::to_string(major) + "/bin" : options.pg_bin;
  const int bin_major = BinaryMajor(r.pg_bin, &r.server_version);
  if (bin_major == 0) {
    return InvalidArgument(r.pg_bin + "/postgres: cannot run it; the backup needs PostgreSQL " + std::to_string(major) +
                           "'s server (--pg-bin names its bin directory)");
  }
  if (bin_major != major) {
    return InvalidArgument(r.pg_bin + " holds PostgreSQL " + std::to_string(bin_major) +
                           " binaries; the backup is PostgreSQL " + std::to_string(major) +
                           " (its PG_VERSION): a physical backup restores only with its own major version");
  }

  // What it is compared with, and the target.
  if (options.wal_archive.empty())
    return InvalidArgument("a base backup restores with its WAL: name the archive with --wal-archive DIR");
  std::string expect = options.expect.empty() ? options.target.manifest : options.expect;
  if (expect.empty()) {
    return InvalidArgument(
        "a base backup's restore is proven against a manifest of the source: give --expect M.json (vouch digest -o) "
        "or --target-manifest M.json (vouch digest --at-lsn -o)");
  }
  auto expected = LoadManifest(expect);
  if (!expected.ok()) return expected.status();
  auto prop = [&](const char* key) {
    auto it = expected->source.properties.find(key);
    return it == expected->source.properties.end() ? std::string() : it->second;
  };
  r.database = prop("database");
  if (r.database.empty()) return InvalidArgument(expect + ": names no database (not a digest of a database)");
  RecoveryTarget target = options.target;
  if (!target.manifest.empty()) {
    Result<DigestReport> other = target.manifest == expect ? DigestReport() : LoadManifest(target.manifest);
    if (!other.ok()) return other.status();
    const DigestReport& m = target.manifest == expect ? *expected : *other;
    auto it = m.source.properties.find("at_lsn");
    if (it == m.source.properties.end()) {
      return InvalidArgument(target.manifest + ": was not read at an exact WAL position (vouch digest --at-lsn)");
    }
    target.kind = RecoveryTarget::kLsn;
    target.value = it->second;
  }
  std::optional<uint64_t> target_lsn;
  switch (target.kind) {
    case RecoveryTarget::kLatest: rec.target = "latest (the archive's end)"; break;
    case RecoveryTarget::kLsn:
      target_lsn = ParseLsn(target.value);
      if (!target_lsn) return InvalidArgument("recovery target LSN '" + target.value + "': expected X/X");
      rec.target = "LSN " + FormatLsn(*target_lsn) + (target.manifest.empty() ? "" : " (from " + target.manifest + ")");
      break;
    case RecoveryTarget::kTime: rec.target = "time " + target.value; break;
  }

  // The archive, by name only: every segment from the backup's start to the
  // target (or the archive's end) must be there, before anything is copied.
  auto archive = ListArchive(options.wal_archive, segment_size);
  if (!archive.ok()) return archive.status();
  const uint64_t first = *label->start_lsn / segment_size;
  const uint32_t tli = *label->start_tli;
  const std::string where = options.wal_archive;
  if (target_lsn && (!archive->any || *target_lsn / segment_size > archive->max_segno)) {
    rec.failures.push_back("recovery target " + FormatLsn(*target_lsn) + " is beyond the archive: " +
                           (archive->any
                                ? "its last segment is " + WalSegmentFileName(tli, archive->max_segno, segment_size)
                                : std::string("it holds no segment")));
    return r;
  }
  const uint64_t last = target_lsn ? *target_lsn / segment_size : archive->max_segno;
  for (uint64_t s = first; s <= last; ++s) {
    // The backup's own pg_wal (pg_basebackup -X) counts as well.
    const std::string name = WalSegmentFileName(tli, s, segment_size);
    if (HasSegment(*archive, s, tli) || fs::exists(backup / "pg_wal" / name)) continue;
    rec.failures.push_back("WAL segment " + name + " is missing from " + where + ": recovery from " + rec.start_lsn +
                           " to " + (target_lsn ? FormatLsn(*target_lsn) : "the archive's end") + " needs it");
    return r;
  }

  // Free disk, before copying: the backup, and the segments decompressed.
  uint64_t need = TreeBytes(options.backup);
  for (const auto& [key, f] : archive->segments) {
    if (key.first >= first && f.compressed) need += segment_size;
  }
  struct statvfs vfs {};
  if (statvfs(base.parent.c_str(), &vfs) == 0 && base.keep.empty()) {
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < need + (uint64_t{64} << 20)) {
      return IoError(base.parent + ": not enough free disk for the restore: it needs " + std::to_string(need >> 20) +
                     " MB (the backup and its WAL) and 64 MB more, " + std::to_string(free_bytes >> 20) +
                     " MB are free");
    }
  }

  ScratchOptions so = base;
  so.bin_dir = r.pg_bin;
  // The source's role the manifest was read as (a superuser, or one that
  // may read every table), else "postgres".
  so.superuser = "postgres";
  if (std::string loc = prop("original_location");
      loc.starts_with("postgresql://") && loc.find('@') != std::string::npos) {
    so.superuser = loc.substr(13, loc.find('@') - 13);
  }
  auto phase = [&](const char* name, Clock::time_point t) { r.phases.push_back({name, Since(t)}); };
  auto t = Clock::now();
  auto cluster = ScratchCluster::CreateEmpty(so);
  if (!cluster.ok()) return cluster.status();
  ScratchCluster& c = **cluster;
  const std::string data = c.data_dir();
  std::error_code ec;
  fs::copy(backup, data, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return IoError(options.backup + ": cannot copy it to " + data + ": " + ec.message());
  fs::permissions(data, fs::perms::owner_all, ec);
  for (const char* stale : {"postmaster.pid", "postmaster.opts", "standby.signal"})
    fs::remove(fs::path(data) / stale, ec);
  VOUCH_RETURN_IF_ERROR(ChownTree(data, so.as));
  phase("copy", t);

  // The WAL the server asks for, in one directory: plain segments linked,
  // compressed ones decompressed.
  t = Clock::now();
  const std::string stage = c.dir() + "/wal";
  fs::create_directory(stage, ec);
  if (ec) return IoError(stage + ": " + ec.message());
  const fs::path archive_dir = fs::absolute(options.wal_archive);
  for (const auto& [key, f] : archive->segments) {
    if (key.first < first) continue;
    const std::string base_name = f.file.substr(0, 24);
    if (f.compressed) {
      VOUCH_RETURN_IF_ERROR(Decompress((archive_dir / f.file).string(), stage + "/" + base_name));
      ++rec.segments_decompressed;
    } else if (!ReadableBy((archive_dir / f.file).string(), so.as)) {
      // The server's user could not read it through a link: a copy.
      fs::copy_file(archive_dir / f.file, fs::path(stage) / base_name, ec);
      if (ec) return IoError((archive_dir / f.file).string() + ": " + ec.message());
    } else {
      fs::create_symlink(archive_dir / f.file, fs::path(stage) / base_name, ec);
      if (ec) return IoError(stage + "/" + base_name + ": " + ec.message());
    }
    ++rec.segments_staged;
  }
  for (const auto& h : archive->histories) fs::copy_file(archive_dir / h, fs::path(stage) / h, ec);
  VOUCH_RETURN_IF_ERROR(ChownTree(stage, so.as));
  phase("stage WAL", t);

  {
    std::ofstream conf(data + "/postgresql.auto.conf", std::ios::app);
    conf << "\n# vouch restore-test\n"
         << "restore_command = " << ConfQuote("cp \"" + stage + "/%f\" \"%p\"") << "\n"
         << "recovery_target_timeline = 'latest'\n"
         << "recovery_target_action = 'promote'\n"
         << "archive_mode = off\nhot_standby = on\n"
         // The source's pg_hba.conf is not this host's: trust on the scratch
         // server's socket and loopback only.
         << "hba_file = " << ConfQuote(c.dir() + "/pg_hba.conf") << "\n";
    std::ofstream hba(c.dir() + "/pg_hba.conf");
    hba << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
    if (target.kind == RecoveryTarget::kLsn) {
      // Off: the record that starts at the target is not replayed, so the
      // restored data is exactly what a snapshot taken at that LSN saw.
      conf << "recovery_target_lsn = " << ConfQuote(FormatLsn(*target_lsn)) << "\nrecovery_target_inclusive = off\n";
    } else if (target.kind == RecoveryTarget::kTime) {
      conf << "recovery_target_time = " << ConfQuote(target.value) << "\n";
    }
    std::ofstream signal(data + "/recovery.signal");
    if (!conf || !signal) return IoError(data + ": cannot write the recovery settings");
  }
  VOUCH_RETURN_IF_ERROR(ChownTree(data, so.as));

  auto name_failures = [&] {
    LogFacts log = ReadLog(c.server_log());
    for (auto& f : log.fatal) rec.failures.push_back("server: " + f);
    if (!log.wal_damage.empty() && !log.fatal.empty()) rec.failures.push_back("WAL: " + log.wal_damage);
    if (rec.failures.empty()) rec.failures.push_back("the server stopped during recovery; see " + c.server_log());
  };
  t = Clock::now();
  Status started = c.Start();
  phase("server start", t);
  r.server_version = c.server_version().empty() ? r.server_version : c.server_version();
  if (!started.ok()) {
    name_failures();
    for (const auto& p : r.phases) r.rto_us += p.us;
    return r;
  }
  t = Clock::now();
  bool promoted = false;
  VOUCH_RETURN_IF_ERROR(WaitForPromotion(c.Conninfo("postgres"), &rec, &promoted));
  phase("WAL replay", t);
  LogFacts log = ReadLog(c.server_log());
  rec.end_lsn = log.redo_done;
  rec.stop = log.stop;
  if (auto end = ParseLsn(log.redo_done); end && *end > *label->start_lsn)
    rec.replayed_bytes = *end - *label->start_lsn;
  if (!promoted) {
    name_failures();
    if (target_lsn && !log.redo_done.empty()) {
      rec.failures.push_back("recovery ended at LSN " + log.redo_done + " before the target " + FormatLsn(*target_lsn));
    }
  } else if (target.kind == RecoveryTarget::kLatest) {
    // Recovery to the archive's end ends at the first segment it cannot
    // read: one the archive holds after it means that one is damaged.
    auto end = ParseLsn(log.redo_done);
    if (end && *end / segment_size < archive->max_segno) {
      rec.failures.push_back("recovery ended at LSN " + log.redo_done + " in segment " +
                             WalSegmentFileName(tli, *end / segment_size, segment_size) +
                             ", but the archive holds WAL to " +
                             WalSegmentFileName(tli, archive->max_segno, segment_size) +
                             (!log.copy_error.empty()  ? ": " + log.copy_error
                              : log.wal_damage.empty() ? std::string(": a segment after it is damaged")
                                                       : ": " + log.wal_damage));
    }
  }

  if (promoted) {
    t = Clock::now();
    const std::string source_time_text = prop("snapshot_time");
    // Unlogged tables come back empty from any physical restore: expected so.
    const auto unlogged = UnloggedTables(c.Conninfo(r.database));
    for (TableResult& table : expected->tables) {
      if (!unlogged.count({table.schema, table.name})) continue;
      rec.unlogged.push_back(table.QualifiedName() + " (" + std::to_string(table.digest.rows()) +
                             " rows in the manifest)");
      TableDigest empty(table.digest.max_buckets());
      empty.Finish();
      table.digest = empty;
    }
    if (!rec.unlogged.empty()) expected->ComputeFinalHash();
    auto source = ManifestSourceOf(expect, std::move(expected).value());
    auto restored = OpenSource(c.Conninfo(r.database), options.drill.compare.digest);
    Result<DrillReport> drill = restored.ok() ? RunDrill(*source, **restored, options.drill) : restored.status();
    phase("verify", t);
    if (drill.ok()) {
      r.drill = std::move(drill).value();
    } else if (r.RestoreClean()) {
      return drill.status();
    }
    // The real RPO: the source's read minus the last commit replayed.
    auto source_time = ParseTimestampText(source_time_text);
    auto replayed = ParseTimestampText(rec.last_commit);
    if (source_time && replayed) r.rpo_us = std::max<int64_t>(0, *source_time - *replayed);
  }
  for (const auto& p : r.phases) r.rto_us += p.us;
  return r;
}

}  // namespace vouch::restore
