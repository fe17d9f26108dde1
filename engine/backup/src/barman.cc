#include "vouch/backup/barman.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <tuple>

#include "dir_names.h"
#include "vouch/base/civil_time.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/barman.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// A Barman record: whole, or an error naming it (missing: InvalidArgument).
Result<std::string> ReadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!Exists(path)) return InvalidArgument(path + ": no such file");
    return IoError(path + ": cannot read: " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": read error");
  return ss.str();
}

std::string Parent(const std::string& p) {
  const size_t slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
std::string Base(const std::string& p) {
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The newest backup of a server whose status is DONE; newer ones that are
// not are noted.
Result<BarmanLocation> Newest(const std::string& server, std::vector<std::string> ids) {
  BarmanLocation l;
  l.server_dir = server;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    const std::string info_path = server + "/base/" + *it + "/backup.info";
    auto text = ReadRecord(info_path);
    if (!text.ok()) continue;  // not a backup (or unreadable): not a candidate
    auto info = ParseBarmanBackupInfo(*text, info_path);
    if (info.ok() && info->status == "DONE") {
      l.backup_id = *it;
      l.backup_dir = server + "/base/" + *it;
      return l;
    }
    l.notes.push_back("backup " + *it + " is newer but not verified: " +
                      (info.ok() ? "its status is " + info->status : "its backup.info does not parse"));
  }
  return InvalidArgument(server + "/base: no backup with status DONE");
}

Result<BarmanLocation> Locate(const BarmanTarget& t) {
  std::string dir = t.dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!IsDir(dir)) return InvalidArgument("--barman " + dir + ": no such directory");
  if (Exists(dir + "/backup.info")) {
    if (!t.backup_id.empty()) return InvalidArgument("--set is for a server's directory; " + dir + " is one backup");
    const std::string base = Parent(dir);
    if (Base(base) != "base") {
      return InvalidArgument(dir +
                             " holds a backup.info but is not in a Barman server's base/ directory: its WAL "
                             "(SERVER/wals) cannot be found");
    }
    return BarmanLocation{Parent(base), dir, Base(dir), {}, {}, {}};
  }
  if (!IsDir(dir + "/base")) {
    return InvalidArgument("--barman " + dir +
                           ": neither a Barman server directory (base/, wals/) nor a backup (backup.info)");
  }
  std::vector<std::string> ids;
  if (int err = ListDirectoryNames(dir + "/base", &ids); err != 0) {
    return IoError("cannot list " + dir + "/base: " + std::strerror(err));
  }
  if (!t.backup_id.empty()) {
    for (const auto& id : ids) {
      if (id == t.backup_id) return BarmanLocation{dir, dir + "/base/" + id, id, {}, {}, {}};
    }
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return InvalidArgument("--set " + t.backup_id + ": not in " + dir + "/base (its backups: " + list + ")");
  }
  return Newest(dir, std::move(ids));  // backup IDs are timestamps: sorted is oldest first
}

// The server's WAL archive: wals/ (history files) and its hashed
// directories TTTTTTTTLLLLLLLL from the backup's first segment's log on.
// Segments in the range Barman compressed with a method vouch does not
// read are an error, not damage.
Status WalDirectories(const std::string& server, const BarmanBackupInfo& info, std::vector<std::string>* out,
                      std::vector<std::string>* notes) {
  const std::string wals = server + "/wals";
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(wals, &names); err != 0) {
    return InvalidArgument("the Barman server's WAL archive " + wals + ": " + std::strerror(err));
  }
  out->push_back(wals);
  const std::string first_log = info.begin_wal.substr(8, 8);
  for (const auto& n : names) {
    if (n.size() != 16 || n.find_first_not_of("0123456789ABCDEF") != std::string::npos) continue;
    if (n.substr(8) >= first_log) out->push_back(wals + "/" + n);
  }
  const std::string db = wals + "/xlog.db";
  auto text = ReadRecord(db);
  if (!text.ok()) {
    notes->push_back(db + " not read (" + text.status().message() + "): WAL compression taken from the files");
    return Status::Ok();
  }
  auto entries = ParseBarmanXlogDb(*text, db);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    if (e.name.substr(0, 24) < info.begin_wal.substr(0, 24) || BarmanCompressionReadable(e.compression)) continue;
    return Unsupported(db + ": line " + std::to_string(e.line) + ": " + e.name + " is compressed with '" +
                       e.compression + "', which vouch does not decompress (gzip, bzip2, zstd and lz4 it does)");
  }
  return Status::Ok();
}

BackupVerification NotDone(const BarmanLocation& l, const BarmanBackupInfo& info, const VerifyBackupOptions& o) {
  BackupVerification v;
  v.dir = l.backup_dir;
  v.format = "barman";
  v.origin = "Barman backup " + l.backup_id;
  v.jobs = o.jobs;
  v.findings.push_back({FindingKind::kManifest, "backup.info",
                        "status " + info.status + (info.error.empty() ? "" : " (" + info.error + ")") +
                            ": Barman did not finish this backup"});
  v.finished_at =
      o.now ? o.now() : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return v;
}

// What backup.info says against what the backup holds.
void CrossCheck(const BarmanBackupInfo& info, BackupVerification& v) {
  if (v.system_identifier && *v.system_identifier != info.system_id) {
    v.findings.push_back({FindingKind::kSysid, "backup.info",
                          "systemid " + std::to_string(info.system_id) + ", global/pg_control says " +
                              std::to_string(*v.system_identifier)});
  }
  if (v.start_lsn && *v.start_lsn != info.begin_lsn) {
    v.findings.push_back({FindingKind::kLabel, "backup.info",
                          "begin_xlog " + FormatLsn(info.begin_lsn) + ", backup_label's START WAL LOCATION is " +
                              FormatLsn(*v.start_lsn)});
  }
  if (v.start_tli && *v.start_tli != info.timeline) {
    v.findings.push_back({FindingKind::kLabel, "backup.info",
                          "timeline " + std::to_string(info.timeline) + ", backup_label's START TIMELINE is " +
                              std::to_string(*v.start_tli)});
  }
  if (v.pg_major != 0 && info.version / 10000 != v.pg_major) {
    v.findings.push_back({FindingKind::kControl, "backup.info",
                          "version " + std::to_string(info.version) + ", global/pg_control is PostgreSQL " +
                              std::to_string(v.pg_major) + "'s"});
  }
}

// The tablespaces an rsync backup keeps beside data/: base/ID/OID.
std::vector<std::pair<std::string, std::string>> BarmanTablespaces(const std::string& backup_dir) {
  std::vector<std::string> names;
  ListDirectoryNames(backup_dir, &names);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : names) {
    if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos && IsDir(backup_dir + "/" + n)) {
      out.emplace_back(n, backup_dir + "/" + n);
    }
  }
  return out;
}

}  // namespace

bool IsBarmanDirectory(const std::string& dir) {
  return (Exists(dir + "/backup.info") && IsDir(dir + "/data")) || (IsDir(dir + "/base") && IsDir(dir + "/wals"));
}

Result<BarmanLocation> LocateBarmanBackup(const BarmanTarget& target) {
  auto l = Locate(target);
  if (!l.ok()) return l.status();
  const std::string info_path = l->backup_dir + "/backup.info";
  auto text = ReadRecord(info_path);
  if (!text.ok()) return text.status();
  auto info = ParseBarmanBackupInfo(*text, info_path);
  if (!info.ok()) return info.status();
  l->info = std::move(info).value();
  l->tablespaces = BarmanTablespaces(l->backup_dir);
  return l;
}

Result<BackupVerification> VerifyBarman(const BarmanTarget& target, const VerifyBackupOptions& options) {
  if (!options.wal_archives.empty()) return InvalidArgument("--barman reads the WAL from the server's wals/");
  if (!options.checksums.empty()) return InvalidArgument("--checksums is for a pg_basebackup directory");
  auto l = LocateBarmanBackup(target);
  if (!l.ok()) return l.status();
  const std::string info_path = l->backup_dir + "/backup.info";
  const BarmanBackupInfo* info = &l->info;
  if (info->status != "DONE") return NotDone(*l, *info, options);

  VerifyBackupOptions o = options;
  const std::string data = l->backup_dir + "/data";
  const bool manifest = Exists(data + "/backup_manifest");
  if (!manifest) {
    o.without_manifest =
        BackupWithoutManifest{"Barman " + info->mode + " backup",
                              ManifestWalRange{info->timeline, info->begin_lsn, *info->end_lsn}, l->tablespaces};
    o.page_checksums = true;
  }
  std::vector<std::string> notes = l->notes;
  if (!o.skip_wal) VOUCH_RETURN_IF_ERROR(WalDirectories(l->server_dir, *info, &o.wal_archives, &notes));
  if (!IsDir(data)) return InvalidArgument(info_path + ": status DONE, but " + data + " is not a directory");
  auto v = VerifyBackup(data, o);
  if (!v.ok()) return v.status();
  v->dir = l->backup_dir;
  v->origin = "Barman backup " + l->backup_id + " of server " + Base(l->server_dir) + " (" + info->mode + ")";
  CrossCheck(*info, *v);
  // With a manifest, its pg_tblspc/OID/... entries (links to OID/ beside
  // data/) were checked; without one, the OID/ directories were read.
  if (!manifest && info->tablespaces && o.without_manifest->tablespaces.empty()) {
    v->findings.push_back({FindingKind::kMissing, "pg_tblspc",
                           "backup.info lists tablespaces, but " + l->backup_dir + " holds no OID directory"});
  }
  for (auto& n : notes) v->notes.insert(v->notes.begin(), std::move(n));
  // In verify-backup's order: by the kind's name, then subject and detail.
  std::sort(v->findings.begin(), v->findings.end(), [](const Finding& a, const Finding& b) {
    return std::tuple(std::string_view(FindingKindName(a.kind)), a.subject, a.detail) <
           std::tuple(std::string_view(FindingKindName(b.kind)), b.subject, b.detail);
  });
  return v;
}

namespace {

constexpr size_t kNamed = 5;

// The data files the backup needs, present: those its manifest lists (a
// data directory's of their size; a tar backup's tar files), or without a
// manifest the files a data directory cannot start without.
void DataPresence(const std::string& data, BarmanBackupPresence& p) {
  auto missing = [&](const std::string& what) {
    if (p.files_missing.size() < kNamed) p.files_missing.push_back(what);
  };
  std::ifstream in(data + "/backup_manifest", std::ios::binary);
  if (!in) {
    for (const char* f : {"PG_VERSION", "global/pg_control", "backup_label"}) {
      ++p.files_listed;
      if (Exists(data + "/" + f)) {
        ++p.files_present;
      } else {
        missing(std::string(f) + ": not in " + data);
      }
    }
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = ParseBackupManifest(ss.str());
  if (!m.ok()) {
    ++p.files_listed;
    missing("backup_manifest: " + m.status().message());
    return;
  }
  std::vector<std::string> names;
  ListDirectoryNames(data, &names);
  std::vector<std::string> tars;
  for (const auto& n : names) {
    if (n.rfind("base.tar", 0) == 0) tars.push_back(n);
  }
  if (!tars.empty()) {  // the tar files hold the listed files: their members are verify-backup's to read
    p.files_listed = p.files_present = m->files.size();
    return;
  }
  for (const auto& f : m->files) {
    ++p.files_listed;
    struct stat st {};
    if (::stat((data + "/" + f.path).c_str(), &st) != 0) {
      missing(f.path + ": not in " + data);
    } else if (static_cast<uint64_t>(st.st_size) != f.size) {
      missing(f.path + ": " + std::to_string(st.st_size) + " bytes, the manifest says " + std::to_string(f.size));
    } else {
      ++p.files_present;
    }
  }
}

// Every segment from begin_wal to end_wal under wals/, by name.
void WalPresence(const std::string& server, BarmanBackupPresence& p) {
  const auto first = ParseWalFileName(p.info.begin_wal);
  const auto last = ParseWalFileName(p.info.end_wal);
  const uint32_t segsz = IsValidWalSegmentSize(p.info.segment_size) ? p.info.segment_size : 16u << 20;
  uint64_t from = 1, to = 0;
  if (first && last) {
    from = WalSegmentNumber(*first, segsz).value_or(1);
    to = WalSegmentNumber(*last, segsz).value_or(0);
  }
  for (uint64_t segno = from; segno <= to; ++segno) {
    const std::string name = WalSegmentFileName(first->timeline, segno, segsz);
    ++p.wal_needed;
    if (Exists(server + "/wals/" + name.substr(0, 16) + "/" + name)) {
      ++p.wal_present;
    } else if (p.wal_missing.size() < kNamed) {
      p.wal_missing.push_back(name);
    }
  }
}

double UnixSeconds(const BarmanBackupInfo& info, const char* key) {
  auto it = info.fields.find(key);
  if (it == info.fields.end()) return 0;
  auto us = ParseTimestampText(it->second);
  return us ? static_cast<double>(*us) / 1e6 : 0;
}

}  // namespace

Result<BarmanBackupPresence> InspectNewestBarmanBackup(const std::string& server_in) {
  std::string server = server_in;
  while (server.size() > 1 && server.back() == '/') server.pop_back();
  if (!IsDir(server + "/base") || !IsDir(server + "/wals")) {
    return InvalidArgument(server + " is not a Barman server's directory (base/, wals/)");
  }
  std::vector<std::string> ids;
  if (int err = ListDirectoryNames(server + "/base", &ids); err != 0) {
    return IoError("cannot list " + server + "/base: " + std::strerror(err));
  }
  std::erase_if(ids, [&](const std::string& id) { return !Exists(server + "/base/" + id + "/backup.info"); });
  BarmanBackupPresence p;
  if (ids.empty()) return p;
  p.id = ids.back();
  p.dir = server + "/base/" + p.id;
  auto text = ReadRecord(p.dir + "/backup.info");
  if (!text.ok()) return text.status();
  auto info = ParseBarmanBackupInfo(*text, p.dir + "/backup.info");
  if (!info.ok()) return info.status();
  p.info = std::move(info).value();
  p.end_time = UnixSeconds(p.info, "end_time");
  if (p.end_time == 0) p.end_time = UnixSeconds(p.info, "begin_time");
  for (size_t i = ids.size() - 1; i-- > 0;) {
    const std::string path = server + "/base/" + ids[i] + "/backup.info";
    auto prev_text = ReadRecord(path);
    auto prev = prev_text.ok() ? ParseBarmanBackupInfo(*prev_text, path) : Result<BarmanBackupInfo>(prev_text.status());
    if (!prev.ok() || prev->status != "DONE") continue;
    p.previous_id = ids[i];
    auto size = prev->fields.find("size");
    if (size != prev->fields.end()) p.previous_size = std::strtoull(size->second.c_str(), nullptr, 10);
    break;
  }
  if (p.info.status == "DONE") {
    DataPresence(p.dir + "/data", p);
    WalPresence(server, p);
  }
  return p;
}

}  // namespace vouch
