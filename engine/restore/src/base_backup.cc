// restore-test of a plain base backup: copy, WAL staged from the archive,
// recovery by the server to the target, then the drill against the expected
// manifest. Failures the server or the archive cause are named in the
// report (exit 1); errors are for what stops vouch from testing at all.
#include "base_backup.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
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
#include "vouch/readers/tar_reader.h"
#include "vouch/readers/wal.h"

namespace vouch::restore {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot read it");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A manifest of one database, expected in the restored cluster.
struct ExpectedDatabase {
  std::string path;
  DigestReport manifest;
  std::string Prop(const char* key) const {
    auto it = manifest.source.properties.find(key);
    return it == manifest.source.properties.end() ? std::string() : it->second;
  }
};

// The manifests at `path`: the one file, or every *.json of a directory
// (digest --all-databases -o DIR), each of a different database, in byte
// order of their file names. A directory's set is whole: the databases its
// manifests name are those the cluster had ("cluster_databases"), all read
// at one "at_lsn".
Result<std::vector<ExpectedDatabase>> LoadExpectedSet(const std::string& path) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
    }
    if (ec) return IoError(path + ": cannot list it: " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) return InvalidArgument(path + ": holds no manifest (*.json)");
  } else {
    files.push_back(path);
  }
  std::vector<ExpectedDatabase> set;
  std::set<std::string> names;
  for (const std::string& file : files) {
    auto m = LoadManifest(file);
    if (!m.ok()) return m.status();
    ExpectedDatabase& e = set.emplace_back(ExpectedDatabase{file, std::move(m).value()});
    const std::string db = e.Prop("database");
    if (db.empty()) return InvalidArgument(file + ": names no database (not a digest of a database)");
    if (!names.insert(db).second) return InvalidArgument(file + ": a second manifest of database " + db);
    if (e.Prop("at_lsn") != set.front().Prop("at_lsn")) {
      return InvalidArgument(file + ": read at LSN " + (e.Prop("at_lsn").empty() ? "(none)" : e.Prop("at_lsn")) + ", " +
                             set.front().path + " at " +
                             (set.front().Prop("at_lsn").empty() ? "(none)" : set.front().Prop("at_lsn")) +
                             ": not one position of the cluster");
    }
  }
  if (files.size() > 1 || files.front() != path) {
    const std::string cluster = set.front().Prop("cluster_databases");
    for (const auto& e : set) {
      if (e.Prop("cluster_databases") != cluster || cluster.empty()) {
        return InvalidArgument(e.path + ": not of the same digest --all-databases as " + set.front().path);
      }
    }
    std::vector<std::string> found(names.begin(), names.end());
    if (JoinDatabaseNames(found) != cluster) {
      return InvalidArgument(path + ": holds manifests of " + JoinDatabaseNames(found) +
                             "; the cluster's databases were " + cluster + " (a manifest is missing)");
    }
  }
  return set;
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
  std::string file;  // its path in the archive ("SUBDIR/NAME" in a hashed one)
  bool compressed = false;
};
struct Archive {
  std::map<std::pair<uint64_t, uint32_t>, ArchiveFile> segments;  // (segno, timeline)
  std::vector<std::string> histories;
  uint64_t max_segno = 0;
  bool any = false;
};

// Whether a segment stored without a suffix is compressed all the same (as
// Barman stores them), by its first bytes.
bool CompressedByContent(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char head[10] = {};
  in.read(head, sizeof head);
  return DetectCompression(std::string_view(head, static_cast<size_t>(in.gcount()))) != Compression::kNone;
}

// The WAL archive in `dir`: its segments (by suffix compressed or not) and
// history files; and those of its 16-hex-digit subdirectories (a Barman
// server's wals/: a directory per timeline and log, compressed segments
// under their plain names).
Result<Archive> ListArchive(const std::string& dir, uint32_t segment_size) {
  Archive a;
  auto add = [&](const std::string& rel, const fs::path& path, bool hashed) {
    const std::string name = path.filename().string();
    auto parsed = ParseWalFileName(name);
    if (!parsed) return;
    if (parsed->kind == WalFileName::kHistory) {
      a.histories.push_back(rel);
      return;
    }
    if (parsed->kind != WalFileName::kSegment) return;
    auto segno = WalSegmentNumber(*parsed, segment_size);
    if (!segno) return;
    const bool compressed = !parsed->compression.empty() || (hashed && CompressedByContent(path));
    auto& slot = a.segments[{*segno, parsed->timeline}];
    // A plain copy beats a compressed one of the same segment.
    if (slot.file.empty() || !compressed) slot = {rel, compressed};
    a.max_segno = std::max(a.max_segno, *segno);
    a.any = true;
  };
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return IoError(dir + ": cannot list the WAL archive: " + ec.message());
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (name.size() == 16 && name.find_first_not_of("0123456789ABCDEF") == std::string::npos && e.is_directory(ec)) {
      for (const auto& f : fs::directory_iterator(e.path(), ec)) {
        add(name + "/" + f.path().filename().string(), f.path(), true);
      }
      if (ec) return IoError(e.path().string() + ": cannot list it: " + ec.message());
      continue;
    }
    add(name, e.path(), false);
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

// "12.345 s".
std::string SecondsText(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(us) / 1e6);
  return buf;
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
  bool fatal_detail = false;  // the line before was a FATAL or PANIC one
  while (std::getline(in, line)) {
    const bool after_fatal = fatal_detail;
    fatal_detail = false;
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
      fatal_detail = true;
    } else if (std::string d = after("DETAIL:  "); !d.empty() && after_fatal && !f.fatal.empty()) {
      f.fatal.back() += " (" + d + ")";  // the FATAL line's own detail
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

// The live source's latest commit, in UTC as the manifests write times,
// and where it came from: a standby's last replayed commit, a primary's
// last commit (track_commit_timestamp on), else the primary's clock now
// (the commit a disaster now would lose last).
Result<std::pair<std::string, std::string>> SourceLatestCommit(const std::string& conninfo) {
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), "vouch", nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> pg(PQconnectdbParams(keys, values, 1), &PQfinish);
  auto error = [&] {
    std::string m = PQerrorMessage(pg.get());
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return ConnectionError("--source: " + m);
  };
  if (PQstatus(pg.get()) != CONNECTION_OK) return error();
  std::unique_ptr<PGresult, decltype(&PQclear)> r(
      PQexec(pg.get(),
             "SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), how FROM (SELECT CASE "
             "WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_xact_replay_timestamp() "
             "WHEN pg_catalog.current_setting('track_commit_timestamp')::bool THEN "
             "(pg_catalog.pg_last_committed_xact()).timestamp END AS c, pg_catalog.now() AS n, "
             "CASE WHEN pg_catalog.pg_is_in_recovery() THEN 'the live source''s last replayed commit (a standby)' "
             "WHEN pg_catalog.current_setting('track_commit_timestamp')::bool THEN 'the live source''s last commit' "
             "END AS h) s, LATERAL (SELECT COALESCE(s.c, s.n) AS t, CASE WHEN s.c IS NULL THEN 'the live source''s "
             "clock at the read (track_commit_timestamp is off, or no commit yet)' ELSE s.h END AS how) x"),
      &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return error();
  return std::make_pair(std::string(PQgetvalue(r.get(), 0, 0)), std::string(PQgetvalue(r.get(), 0, 1)));
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

// base.tar, base.tar.gz, ... in `dir`; "" when there is none.
std::string FindTar(const fs::path& dir, const std::string& stem) {
  for (const char* ext : {".tar", ".tar.gz", ".tar.zst", ".tar.lz4"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / (stem + ext), ec)) return (dir / (stem + ext)).string();
  }
  return {};
}

// Extracts a tar (compressed or not) into `into`: directories, regular files
// and symbolic links, as pg_basebackup -Ft writes them. A member's name may
// not climb out of `into`.
Status ExtractTar(const std::string& path, const fs::path& into) {
  auto src = OpenDecodedFile(path);
  if (!src.ok()) return src.status();
  TarReader tar(**src, path);
  std::error_code ec;
  fs::create_directories(into, ec);
  if (ec) return IoError(into.string() + ": " + ec.message());
  std::string buf(1 << 20, '\0');
  TarMember m;
  for (;;) {
    auto more = tar.Next(&m);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    std::string name = m.name;
    while (name.starts_with("./")) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (name.empty()) continue;
    const fs::path rel(name);
    if (rel.is_absolute() || std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; })) {
      return Corrupt(path + ": member '" + m.name + "' points outside the data directory");
    }
    const fs::path to = into / rel;
    if (m.type == '5') {
      fs::create_directories(to, ec);
      if (ec) return IoError(to.string() + ": " + ec.message());
      fs::permissions(to, fs::perms::owner_all, ec);
    } else if (m.type == '2') {
      fs::create_symlink(m.link_target, to, ec);
      if (ec) return IoError(to.string() + ": " + ec.message());
    } else if (m.type == '0' || m.type == '\0') {
      fs::create_directories(to.parent_path(), ec);
      std::ofstream out(to, std::ios::binary);
      if (!out) return IoError(to.string() + ": cannot write it");
      for (;;) {
        auto n = ReadUpTo(tar.Data(), buf.data(), buf.size());
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        out.write(buf.data(), static_cast<std::streamsize>(*n));
      }
      out.close();
      if (!out) return IoError(to.string() + ": cannot write it (disk full?)");
      fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
    } else {
      return Unsupported(path + ": member '" + m.name + "' of tar type '" + std::string(1, m.type) +
                         "' is not what pg_basebackup writes");
    }
  }
}

// A restore-test of one base backup, phase by phase.
class BaseBackupTest {
 public:
  BaseBackupTest(const RestoreTestOptions& options, ScratchOptions base) : o_(options), so_(std::move(base)) {
    r_.kind = "base backup";
    r_.backup = options.backup;
    r_.rto_target_us = options.rto_target_us;
    rec_ = &r_.recovery.emplace();
    rec_->wal_archive = options.wal_archive;
    tar_ = FindTar(options.backup, "base");
  }

  Result<RestoreTestReport> Run() {
    VOUCH_RETURN_IF_ERROR(LoadExpected());
    if (tar_.empty()) {
      // A plain backup is read where it is, and checked before it is copied.
      VOUCH_RETURN_IF_ERROR(ReadFacts(o_.backup));
      if (!Preflight()) return r_;
      VOUCH_RETURN_IF_ERROR(MakeScratch());
      VOUCH_RETURN_IF_ERROR(Timed("copy", [&] { return Copy(); }));
    } else {
      // A tar backup is extracted first: its facts are inside.
      VOUCH_RETURN_IF_ERROR(MakeScratch());
      VOUCH_RETURN_IF_ERROR(Timed("extract", [&] { return Extract(); }));
      VOUCH_RETURN_IF_ERROR(ReadFacts(cluster_->data_dir()));
      if (!Preflight()) return Finish();
    }
    VOUCH_RETURN_IF_ERROR(cluster_->SetBinDir(r_.pg_bin));
    VOUCH_RETURN_IF_ERROR(Timed("stage WAL", [&] { return StageWal(); }));
    VOUCH_RETURN_IF_ERROR(Configure());
    VOUCH_RETURN_IF_ERROR(Recover());
    if (promoted_) VOUCH_RETURN_IF_ERROR(Verify());
    return Finish();
  }

 private:
  RestoreTestReport Finish() {
    r_.rto_us = 0;
    for (const auto& p : r_.phases) r_.rto_us += p.us;
    return std::move(r_);
  }

  Status Timed(const char* name, const std::function<Status()>& step) {
    if (o_.progress != nullptr) o_.progress->SetPhase(name);
    const auto t = Clock::now();
    Status st = step();
    r_.phases.push_back({name, Since(t)});
    return st;
  }

  std::string Prop(const char* key) const { return expected_.front().Prop(key); }

  // The manifest the restore is compared with, and the target.
  Status LoadExpected() {
    if (o_.wal_archive.empty()) {
      return InvalidArgument("a base backup restores with its WAL: name the archive with --wal-archive DIR");
    }
    expect_ = o_.expect.empty() ? o_.target.manifest : o_.expect;
    if (expect_.empty()) {
      return InvalidArgument(
          "a base backup's restore is proven against a manifest of the source: give --expect M.json (vouch digest "
          "-o) or --target-manifest M.json (vouch digest --at-lsn -o)");
    }
    auto expected = LoadExpectedSet(expect_);
    if (!expected.ok()) return expected.status();
    expected_ = std::move(expected).value();
    target_ = o_.target;
    if (!target_.manifest.empty()) {
      auto other = target_.manifest == expect_ ? Result<std::vector<ExpectedDatabase>>(std::vector<ExpectedDatabase>{})
                                               : LoadExpectedSet(target_.manifest);
      if (!other.ok()) return other.status();
      const ExpectedDatabase& m = target_.manifest == expect_ ? expected_.front() : other->front();
      if (m.Prop("at_lsn").empty()) {
        return InvalidArgument(target_.manifest + ": was not read at an exact WAL position (vouch digest --at-lsn)");
      }
      target_.kind = RecoveryTarget::kLsn;
      target_.value = m.Prop("at_lsn");
    }
    switch (target_.kind) {
      case RecoveryTarget::kLatest: rec_->target = "latest (the archive's end)"; break;
      case RecoveryTarget::kLsn:
        target_lsn_ = ParseLsn(target_.value);
        if (!target_lsn_) return InvalidArgument("recovery target LSN '" + target_.value + "': expected X/X");
        rec_->target =
            "LSN " + FormatLsn(*target_lsn_) + (target_.manifest.empty() ? "" : " (from " + target_.manifest + ")");
        break;
      case RecoveryTarget::kTime: rec_->target = "time " + target_.value; break;
    }
    // The source's role the manifest was read as (a superuser, or one that
    // may read every table), else "postgres".
    so_.superuser = "postgres";
    if (std::string loc = Prop("original_location");
        loc.starts_with("postgresql://") && loc.find('@') != std::string::npos) {
      so_.superuser = loc.substr(13, loc.find('@') - 13);
    }
    return Status::Ok();
  }

  // What the backup in data directory `dir` is: its version (and the
  // server binaries of that version), segment size and start.
  Status ReadFacts(const std::string& dir) {
    const fs::path d(dir);
    auto version_text = ReadSmallFile((d / "PG_VERSION").string());
    if (!version_text.ok()) return version_text.status();
    const int major = std::atoi(version_text->c_str());
    auto control_bytes = ReadSmallFile((d / "global" / "pg_control").string());
    if (!control_bytes.ok()) return control_bytes.status();
    auto control = ParseControlFile(*control_bytes);
    if (!control.ok())
      return Status(control.status().code(), dir + "/global/pg_control: " + control.status().message());
    segment_size_ = control->xlog_seg_size;
    if (!IsValidWalSegmentSize(segment_size_)) return Corrupt(dir + "/global/pg_control: no valid WAL segment size");
    auto label_text = ReadSmallFile((d / "backup_label").string());
    if (!label_text.ok()) return label_text.status();
    auto label = ParseBackupLabel(*label_text);
    if (!label.ok()) return Status(label.status().code(), dir + "/backup_label: " + label.status().message());
    if (!label->start_lsn || !label->start_tli) return Corrupt(dir + "/backup_label: no START WAL LOCATION");
    if (label->incremental_from_lsn) {
      return Unsupported(o_.backup +
                         ": an incremental backup restores only combined with its chain (pg_combinebackup)");
    }
    start_lsn_ = *label->start_lsn;
    tli_ = *label->start_tli;
    rec_->start_lsn = FormatLsn(start_lsn_);
    own_wal_ = (d / "pg_wal").string();

    r_.pg_bin = o_.pg_bin.empty() ? "/usr/lib/postgresql/" + std::to_string(major) + "/bin" : o_.pg_bin;
    const int bin_major = BinaryMajor(r_.pg_bin, &r_.server_version);
    if (bin_major == 0) {
      return InvalidArgument(r_.pg_bin + "/postgres: cannot run it; the backup needs PostgreSQL " +
                             std::to_string(major) + "'s server (--pg-bin names its bin directory)");
    }
    if (bin_major != major) {
      return InvalidArgument(r_.pg_bin + " holds PostgreSQL " + std::to_string(bin_major) +
                             " binaries; the backup is PostgreSQL " + std::to_string(major) +
                             " (its PG_VERSION): a physical backup restores only with its own major version");
    }
    return Status::Ok();
  }

  // The archive by name only: every segment from the backup's start to the
  // target (or the archive's end) must be there. False (a failure in the
  // report) when one is not, or when the target is beyond the archive.
  bool Preflight() {
    auto archive = ListArchive(o_.wal_archive, segment_size_);
    if (!archive.ok()) {
      rec_->failures.push_back(archive.status().message());
      return false;
    }
    archive_ = std::move(archive).value();
    const uint64_t first = start_lsn_ / segment_size_;
    if (target_lsn_ && (!archive_.any || *target_lsn_ / segment_size_ > archive_.max_segno)) {
      rec_->failures.push_back(
          "recovery target " + FormatLsn(*target_lsn_) + " is beyond the archive: " +
          (archive_.any ? "its last segment is " + WalSegmentFileName(tli_, archive_.max_segno, segment_size_)
                        : std::string("it holds no segment")));
      return false;
    }
    const uint64_t last = target_lsn_ ? *target_lsn_ / segment_size_ : archive_.max_segno;
    for (uint64_t s = first; s <= last; ++s) {
      // The backup's own pg_wal (pg_basebackup -X) counts as well.
      const std::string name = WalSegmentFileName(tli_, s, segment_size_);
      std::error_code ec;
      if (HasSegment(archive_, s, tli_) || fs::exists(fs::path(own_wal_) / name, ec)) continue;
      rec_->failures.push_back("WAL segment " + name + " is missing from " + o_.wal_archive + ": recovery from " +
                               rec_->start_lsn + " to " +
                               (target_lsn_ ? FormatLsn(*target_lsn_) : "the archive's end") + " needs it");
      return false;
    }
    return true;
  }

  // The scratch directory, after a check that its disk holds the backup
  // (a compressed tar counted twice) and the segments decompressed.
  Status MakeScratch() {
    uint64_t need = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(o_.backup, ec)) {
      if (e.is_directory(ec)) need += TreeBytes(e.path().string());
      if (!e.is_regular_file(ec)) continue;
      const std::string n = e.path().filename().string();
      need += e.file_size(ec) * (n.ends_with(".gz") || n.ends_with(".zst") || n.ends_with(".lz4") ? 2 : 1);
    }
    for (const auto& e : fs::directory_iterator(o_.wal_archive, ec)) {
      const std::string n = e.path().filename().string();
      if (auto w = ParseWalFileName(n); w && !w->compression.empty()) need += 16u << 20;
    }
    struct statvfs vfs {};
    const std::string parent = so_.keep.empty() ? so_.parent : fs::absolute(so_.keep).parent_path().string();
    if (statvfs(parent.c_str(), &vfs) == 0) {
      const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      if (free_bytes < need + (uint64_t{64} << 20)) {
        return IoError(parent + ": not enough free disk for the restore: it needs " + std::to_string(need >> 20) +
                       " MB (the backup and its WAL) and 64 MB more, " + std::to_string(free_bytes >> 20) +
                       " MB are free");
      }
    }
    auto cluster = ScratchCluster::CreateEmpty(so_);
    if (!cluster.ok()) return cluster.status();
    cluster_ = std::move(cluster).value();
    return Status::Ok();
  }

  Status Copy() {
    const std::string data = cluster_->data_dir();
    std::error_code ec;
    fs::copy(o_.backup, data, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return IoError(o_.backup + ": cannot copy it to " + data + ": " + ec.message());
    // Tablespaces kept outside the data directory, not linked from it:
    // linked to where they are; the loop below copies them.
    for (const auto& [oid, dir] : o_.tablespaces) {
      const fs::path link = fs::path(data) / "pg_tblspc" / oid;
      if (fs::exists(fs::symlink_status(link, ec))) continue;
      fs::create_directories(link.parent_path(), ec);
      fs::create_symlink(fs::absolute(dir), link, ec);
      if (ec) return IoError(link.string() + ": " + ec.message());
    }
    // A tablespace's link points at the backup's copy of it: copied too, so
    // that the server never writes there.
    for (const auto& e : fs::directory_iterator(fs::path(data) / "pg_tblspc", ec)) {
      if (!e.is_symlink(ec)) continue;
      const fs::path target = fs::read_symlink(e.path(), ec);
      const fs::path copy = fs::path(cluster_->dir()) / "tblspc" / e.path().filename();
      fs::create_directories(copy, ec);
      fs::copy(target, copy, fs::copy_options::recursive, ec);
      if (ec) return IoError(target.string() + ": cannot copy the tablespace: " + ec.message());
      fs::remove(e.path(), ec);
      fs::create_symlink(copy, e.path(), ec);
      if (ec) return IoError(e.path().string() + ": " + ec.message());
      VOUCH_RETURN_IF_ERROR(ChownTree(copy.string(), so_.as));
    }
    return Prepared();
  }

  // base.tar into the data directory, pg_wal.tar into its pg_wal, and each
  // tablespace's OID.tar beside it, with tablespace_map pointed there.
  Status Extract() {
    const std::string data = cluster_->data_dir();
    VOUCH_RETURN_IF_ERROR(ExtractTar(tar_, data));
    if (std::string wal = FindTar(o_.backup, "pg_wal"); !wal.empty()) {
      VOUCH_RETURN_IF_ERROR(ExtractTar(wal, fs::path(data) / "pg_wal"));
    }
    std::error_code ec;
    std::string map;
    for (const auto& e : fs::directory_iterator(o_.backup, ec)) {
      const std::string n = e.path().filename().string();
      const size_t dot = n.find('.');
      if (dot == 0 || dot == std::string::npos || n.find_first_not_of("0123456789") != dot) continue;
      const std::string oid = n.substr(0, dot);
      if (FindTar(o_.backup, oid) != e.path().string()) continue;
      const fs::path into = fs::path(cluster_->dir()) / "tblspc" / oid;
      VOUCH_RETURN_IF_ERROR(ExtractTar(e.path().string(), into));
      VOUCH_RETURN_IF_ERROR(ChownTree(into.string(), so_.as));
      map += oid + " " + into.string() + "\n";
    }
    if (!map.empty()) {
      std::ofstream out(data + "/tablespace_map", std::ios::trunc);
      out << map;
      if (!out) return IoError(data + "/tablespace_map: cannot write it");
    }
    return Prepared();
  }

  // The copied data directory made the server's: no stale pid file or
  // standby signal, mode 0700, owned by its user.
  Status Prepared() {
    const std::string data = cluster_->data_dir();
    std::error_code ec;
    fs::permissions(data, fs::perms::owner_all, ec);
    for (const char* stale : {"postmaster.pid", "postmaster.opts", "standby.signal"}) {
      fs::remove(fs::path(data) / stale, ec);
    }
    return ChownTree(data, so_.as);
  }

  // The WAL the server asks for, in one directory: plain segments linked
  // (copied when the server's user could not read them there), compressed
  // ones decompressed.
  Status StageWal() {
    stage_ = cluster_->dir() + "/wal";
    std::error_code ec;
    fs::create_directory(stage_, ec);
    if (ec) return IoError(stage_ + ": " + ec.message());
    const fs::path archive_dir = fs::absolute(o_.wal_archive);
    for (const auto& [key, f] : archive_.segments) {
      if (key.first < start_lsn_ / segment_size_) continue;
      const fs::path from = archive_dir / f.file, to = fs::path(stage_) / from.filename().string().substr(0, 24);
      if (f.compressed) {
        VOUCH_RETURN_IF_ERROR(Decompress(from.string(), to.string()));
        ++rec_->segments_decompressed;
      } else if (!ReadableBy(from.string(), so_.as)) {
        fs::copy_file(from, to, ec);
      } else {
        fs::create_symlink(from, to, ec);
      }
      if (ec) return IoError(to.string() + ": " + ec.message());
      ++rec_->segments_staged;
    }
    for (const auto& h : archive_.histories) {
      const fs::path from = archive_dir / h, to = fs::path(stage_) / from.filename().string().substr(0, 16);
      if (from.extension() == ".history") {
        if (CompressedByContent(from)) {
          VOUCH_RETURN_IF_ERROR(Decompress(from.string(), to.string()));
        } else {
          fs::copy_file(from, to, ec);
        }
      } else {
        VOUCH_RETURN_IF_ERROR(Decompress(from.string(), to.string()));  // NAME.history.gz
      }
    }
    return ChownTree(stage_, so_.as);
  }

  Status Configure() {
    const std::string data = cluster_->data_dir();
    std::ofstream conf(data + "/postgresql.auto.conf", std::ios::app);
    conf << "\n# vouch restore-test\n"
         << "restore_command = " << ConfQuote("cp \"" + stage_ + "/%f\" \"%p\"") << "\n"
         << "recovery_target_timeline = 'latest'\n"
         << "recovery_target_action = 'promote'\n"
         << "archive_mode = off\nhot_standby = on\n"
         // The source's pg_hba.conf is not this host's: trust on the scratch
         // server's socket and loopback only.
         << "hba_file = " << ConfQuote(cluster_->dir() + "/pg_hba.conf") << "\n";
    if (target_.kind == RecoveryTarget::kLsn) {
      // Off: the record that starts at the target is not replayed, so the
      // restored data is exactly what a snapshot taken at that LSN saw.
      conf << "recovery_target_lsn = " << ConfQuote(FormatLsn(*target_lsn_)) << "\nrecovery_target_inclusive = off\n";
    } else if (target_.kind == RecoveryTarget::kTime) {
      conf << "recovery_target_time = " << ConfQuote(target_.value) << "\n";
    }
    std::ofstream hba(cluster_->dir() + "/pg_hba.conf");
    hba << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
    std::ofstream signal(data + "/recovery.signal");
    if (!conf || !signal || !hba) return IoError(data + ": cannot write the recovery settings");
    conf.close();
    signal.close();
    return ChownTree(data, so_.as);
  }

  // The server's FATAL lines (or that it stopped), from its log, as failures.
  void NameServerFailures(const LogFacts& log) {
    // A timeline the backup is not on (a history file whose fork point
    // lies before the backup's start, a target timeline the archive lacks)
    // is named as such.
    for (const auto& f : log.fatal) {
      rec_->failures.push_back((f.find("timeline") != std::string::npos ? "timeline mismatch: " : "server: ") + f);
    }
    if (!log.wal_damage.empty() && !log.fatal.empty()) rec_->failures.push_back("WAL: " + log.wal_damage);
    if (rec_->failures.empty())
      rec_->failures.push_back("the server stopped during recovery; see " + cluster_->server_log());
  }

  // Starts the server (it answers once consistent), waits until it has
  // promoted, and reads how recovery went from its log.
  Status Recover() {
    Status started = Timed("server start", [&] { return cluster_->Start(); });
    if (!cluster_->server_version().empty()) r_.server_version = cluster_->server_version();
    if (!started.ok()) {
      NameServerFailures(ReadLog(cluster_->server_log()));
      return Status::Ok();
    }
    VOUCH_RETURN_IF_ERROR(
        Timed("WAL replay", [&] { return WaitForPromotion(cluster_->Conninfo("postgres"), rec_, &promoted_); }));
    LogFacts log = ReadLog(cluster_->server_log());
    rec_->end_lsn = log.redo_done;
    rec_->stop = log.stop;
    auto end = ParseLsn(log.redo_done);
    if (end && *end > start_lsn_) {
      rec_->replayed_bytes = *end - start_lsn_;
      rec_->segments_replayed = *end / segment_size_ - start_lsn_ / segment_size_ + 1;
    }
    if (!promoted_) {
      NameServerFailures(log);
      if (target_lsn_ && end) {
        rec_->failures.push_back("recovery ended at LSN " + log.redo_done + " before the target " +
                                 FormatLsn(*target_lsn_));
      }
    } else if (target_.kind == RecoveryTarget::kLatest && end && *end / segment_size_ < archive_.max_segno) {
      // Recovery to the archive's end stops at the first segment it cannot
      // read: one the archive holds after it means that one is damaged.
      rec_->failures.push_back("recovery ended at LSN " + log.redo_done + " in segment " +
                               WalSegmentFileName(tli_, *end / segment_size_, segment_size_) +
                               ", but the archive holds WAL to " +
                               WalSegmentFileName(tli_, archive_.max_segno, segment_size_) +
                               (!log.copy_error.empty()  ? ": " + log.copy_error
                                : log.wal_damage.empty() ? std::string(": a segment after it is damaged")
                                                         : ": " + log.wal_damage));
    }
    return Status::Ok();
  }

  // The drill of each expected manifest against its database, promoted.
  Status Verify() {
    // The live source is read first, as close to recovery's end as can be.
    if (!o_.source.empty()) {
      auto latest = SourceLatestCommit(o_.source);
      if (!latest.ok()) return latest.status();
      std::tie(latest_commit_, rec_->source_latest_from) = *latest;
    }
    const auto t = Clock::now();
    // --rpo-target is checked against the real RPO below, not the drill's
    // (from time columns, which a database may not have).
    DrillOptions drill_options = o_.drill;
    drill_options.rpo_target_us.reset();
    drill_options.compare.progress = o_.progress;
    if (o_.progress != nullptr) o_.progress->SetPhase("verify");
    std::string source_time;  // the latest read of the source's databases
    for (ExpectedDatabase& e : expected_) {
      source_time = std::max(source_time, e.Prop("snapshot_time"));
      RestoredDatabase& db = r_.databases.emplace_back();
      db.name = e.Prop("database");
      db.expect = e.path;
      const std::string conninfo = cluster_->Conninfo(db.name);
      // Unlogged tables come back empty from any physical restore: expected
      // so.
      const auto unlogged = UnloggedTables(conninfo);
      const std::string of = expected_.size() > 1 ? db.name + ": " : "";
      bool emptied = false;
      for (TableResult& table : e.manifest.tables) {
        if (!unlogged.count({table.schema, table.name})) continue;
        rec_->unlogged.push_back(of + table.QualifiedName() + " (" + std::to_string(table.digest.rows()) +
                                 " rows in the manifest)");
        TableDigest empty(table.digest.max_buckets());
        empty.Finish();
        table.digest = empty;
        emptied = true;
      }
      if (emptied) e.manifest.ComputeFinalHash();
      auto source = ManifestSourceOf(e.path, std::move(e.manifest));
      auto restored = OpenSource(conninfo, o_.drill.compare.digest);
      Result<DrillReport> drill = restored.ok() ? RunDrill(*source, **restored, drill_options) : restored.status();
      if (!drill.ok() && r_.RestoreClean())
        return Status(drill.status().code(), "database " + db.name + ": " + drill.status().message());
      if (drill.ok()) db.drill = std::move(drill).value();
    }
    r_.phases.push_back({"verify", Since(t)});
    // The real RPO: the source's latest commit (the manifests' latest read,
    // or the live --source at recovery's end) minus the last commit replayed.
    if (!latest_commit_.empty()) {
      source_time = latest_commit_;
    } else {
      rec_->source_latest_from = "the manifest's snapshot_time";
    }
    rec_->source_latest = source_time;
    auto source_us = ParseTimestampText(source_time);
    auto replayed_us = ParseTimestampText(rec_->last_commit);
    if (source_us && replayed_us) r_.rpo_us = std::max<int64_t>(0, *source_us - *replayed_us);
    // --rpo-target holds for the real RPO.
    if (o_.drill.rpo_target_us && !r_.rpo_us) {
      rec_->failures.push_back(
          "RPO not measured (no commit replayed, or no time of the source's latest commit); target " +
          SecondsText(*o_.drill.rpo_target_us));
    } else if (o_.drill.rpo_target_us && *r_.rpo_us > *o_.drill.rpo_target_us) {
      rec_->failures.push_back("RPO " + SecondsText(*r_.rpo_us) + " exceeds the target " +
                               SecondsText(*o_.drill.rpo_target_us) + ": the source's latest commit is of " +
                               source_time + " (" + rec_->source_latest_from + ")" +
                               ", the last commit replayed is of " + rec_->last_commit);
    }
    return Status::Ok();
  }

  const RestoreTestOptions& o_;
  ScratchOptions so_;
  RestoreTestReport r_;
  RecoveryReport* rec_ = nullptr;
  std::string tar_;  // base.tar[.gz|.zst|.lz4], or "" for a plain backup
  std::string expect_, stage_, own_wal_;
  std::vector<ExpectedDatabase> expected_;
  std::string latest_commit_;  // the live --source's, read at recovery's end
  RecoveryTarget target_;
  std::optional<uint64_t> target_lsn_;
  uint32_t segment_size_ = 0, tli_ = 0;
  uint64_t start_lsn_ = 0;
  Archive archive_;
  std::unique_ptr<ScratchCluster> cluster_;
  bool promoted_ = false;
};

}  // namespace

bool IsBaseBackup(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  const fs::path d(path);
  return (fs::exists(d / "backup_label", ec) && fs::exists(d / "PG_VERSION", ec)) || !FindTar(d, "base").empty();
}

Result<RestoreTestReport> RunBaseBackupTest(const RestoreTestOptions& options, const ScratchOptions& base) {
  return BaseBackupTest(options, base).Run();
}

}  // namespace vouch::restore
