#include "vouch/backup/nightly_backup.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dir_names.h"
#include "report_format.h"
#include "vouch/io_buffer.h"
#include "vouch/readers/byte_source.h"

namespace vouch {
namespace {

using report_format::Bytes;

struct Entry {
  std::string name, path;
  bool dir = false;
  double mtime = 0;
};

double MTime(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

struct FileInfo {
  std::string rel, path;
  uint64_t size = 0;
};

Status ListFiles(const std::string& root, const std::string& rel, std::vector<FileInfo>* out) {
  const std::string full = rel.empty() ? root : root + "/" + rel;
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(full, &names); err != 0) {
    return IoError("cannot open directory " + full + ": " + std::strerror(err));
  }
  for (const auto& n : names) {
    const std::string r = rel.empty() ? n : rel + "/" + n;
    const std::string p = root + "/" + r;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) return IoError("cannot stat " + p + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      VOUCH_RETURN_IF_ERROR(ListFiles(root, r, out));
    } else if (S_ISREG(st.st_mode)) {
      out->push_back({r, p, static_cast<uint64_t>(st.st_size)});
    }
  }
  return Status::Ok();
}

Result<std::vector<FileInfo>> BackupFiles(const Entry& e) {
  std::vector<FileInfo> files;
  if (e.dir) {
    VOUCH_RETURN_IF_ERROR(ListFiles(e.path, "", &files));
  } else {
    struct stat st {};
    if (stat(e.path.c_str(), &st) != 0) return IoError("cannot stat " + e.path + ": " + std::strerror(errno));
    files.push_back({e.name, e.path, static_cast<uint64_t>(st.st_size)});
  }
  return files;
}

std::optional<Compression> CompressionByName(const std::string& name) {
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return name.size() > n && name.compare(name.size() - n, n, s) == 0;
  };
  if (ends(".gz") || ends(".tgz")) return Compression::kGzip;
  if (ends(".zst")) return Compression::kZstd;
  if (ends(".lz4")) return Compression::kLz4;
  return std::nullopt;
}

std::string Hours(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  return buf;
}

}  // namespace

Outcome NightlyReport::outcome() const {
  Outcome o;
  if (checks.empty()) o.findings.push_back({FindingKind::kCheckFailed, "nightly", "no check was made"});
  for (const auto& c : checks) {
    if (!c.ok)
      o.findings.push_back(
          {FindingKind::kCheckFailed, c.subject.empty() ? c.kind : c.kind + " " + c.subject, c.detail});
  }
  return o;
}

size_t NightlyReport::Failed() const {
  return static_cast<size_t>(std::count_if(checks.begin(), checks.end(), [](const auto& c) { return !c.ok; }));
}

Result<NightlyReport> CheckNewestBackup(const std::string& parent_in, const NightlyOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.jobs < 0) return InvalidArgument("jobs must be at least 1 (0 = all cores)");
  if (options.min_size_ratio < 0 || options.max_age_seconds < 0) {
    return InvalidArgument("max age and minimum size ratio must not be negative");
  }
  const double now = options.now
                         ? options.now()
                         : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string parent = parent_in;
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  NightlyReport r;
  r.parent_dir = parent;

  std::vector<Entry> entries;
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(parent, &names); err != 0) {
    return IoError("cannot open backup directory " + parent + ": " + std::strerror(err));
  }
  for (const std::string& n : names) {
    if (n[0] == '.') continue;
    if (!options.name_pattern.empty() && fnmatch(options.name_pattern.c_str(), n.c_str(), 0) != 0) continue;
    Entry en;
    en.name = n;
    en.path = parent + "/" + n;
    struct stat st {};
    if (stat(en.path.c_str(), &st) != 0) continue;  // a dangling link is not a backup
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) continue;
    en.dir = S_ISDIR(st.st_mode);
    en.mtime = MTime(st);
    entries.push_back(std::move(en));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.mtime != b.mtime ? a.mtime > b.mtime : a.name > b.name; });

  auto finish = [&]() -> Result<NightlyReport> {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.finished_at = now;
    return std::move(r);
  };

  if (entries.empty()) {
    r.checks.push_back({"exists", false, "",
                        "no backup in " + parent +
                            (options.name_pattern.empty() ? "" : " matching \"" + options.name_pattern + "\"")});
    return finish();
  }
  const Entry& newest = entries.front();
  r.newest = newest.path;
  r.newest_is_dir = newest.dir;
  r.newest_mtime = newest.mtime;
  r.age_seconds = now - newest.mtime;
  auto files = BackupFiles(newest);
  if (!files.ok()) return files.status();
  for (const auto& f : *files) r.newest_bytes += f.size;
  r.newest_files = files->size();
  r.checks.push_back({"exists", r.newest_files > 0, "",
                      newest.path +
                          (newest.dir ? " (directory, " + std::to_string(r.newest_files) + " files, " : " (") +
                          Bytes(r.newest_bytes) + ")"});

  r.checks.push_back({"age", r.age_seconds <= options.max_age_seconds, "",
                      Hours(r.age_seconds) + " old (limit " + Hours(options.max_age_seconds) + ")"});

  for (const auto& pattern : options.expected) {
    const bool by_name = pattern.find('/') == std::string::npos;
    size_t matches = 0;
    for (const auto& f : *files) {
      const std::string base = f.rel.substr(f.rel.rfind('/') == std::string::npos ? 0 : f.rel.rfind('/') + 1);
      if (fnmatch(pattern.c_str(), f.rel.c_str(), FNM_PATHNAME) == 0 ||
          (by_name && fnmatch(pattern.c_str(), base.c_str(), 0) == 0)) {
        ++matches;
      }
    }
    r.checks.push_back(
        {"expected", matches > 0, pattern,
         matches > 0 ? std::to_string(matches) + " file" + (matches == 1 ? "" : "s") + " match" : "no file matches"});
  }

  if (options.min_size_ratio > 0) {
    if (entries.size() < 2) {
      r.checks.push_back({"size", true, "", Bytes(r.newest_bytes) + "; no previous backup to compare with"});
    } else {
      const Entry& prev = entries[1];
      auto pf = BackupFiles(prev);
      if (!pf.ok()) return pf.status();
      for (const auto& f : *pf) r.previous_bytes += f.size;
      r.previous = prev.path;
      const double ratio =
          r.previous_bytes == 0 ? 1.0 : static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f× the previous backup's size", ratio);
      char lim[32];
      std::snprintf(lim, sizeof lim, "%.2f×", options.min_size_ratio);
      r.checks.push_back({"size", ratio >= options.min_size_ratio, "",
                          Bytes(r.newest_bytes) + ", " + buf + " (" + prev.path + ", " + Bytes(r.previous_bytes) +
                              "); at least " + lim + " expected"});
    }
  }

  if (options.check_compressed) {
    struct Job {
      const FileInfo* file;
      Compression expected;
      NightlyCheck check;
      uint64_t decoded = 0;
      Status error;
    };
    std::vector<Job> jobs;
    for (const auto& f : *files) {
      if (auto c = CompressionByName(f.rel))
        jobs.push_back({&f, *c, {"decompress", false, f.rel, ""}, 0, Status::Ok()});
    }
    const int threads = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
    tbb::task_arena arena(threads);
    arena.execute([&] {
      tbb::parallel_for(size_t{0}, jobs.size(), size_t{1}, [&](size_t i) {
        Job& j = jobs[i];
        Compression detected = Compression::kNone;
        auto src = OpenDecodedFile(j.file->path, &detected);
        auto damaged = [&](const Status& s) {
          if (IsDamage(s))
            j.check.detail = s.message();
          else
            j.error = s;
        };
        if (!src.ok()) return damaged(src.status());
        if (detected != j.expected) {
          j.check.detail = std::string("not ") + CompressionName(j.expected) + " data (the file starts like " +
                           (detected == Compression::kNone ? std::string("no known compression")
                                                           : std::string(CompressionName(detected))) +
                           ")";
          return;
        }
        IoBuffer buf(size_t{1} << 20);
        while (true) {
          auto n = (*src)->Read(buf.data(), buf.size());
          if (!n.ok()) return damaged(n.status());
          if (*n == 0) break;
          j.decoded += *n;
        }
        j.check.ok = true;
        j.check.detail = Bytes(j.file->size) + " decompressed to its end (" + Bytes(j.decoded) + ")";
      });
    });
    for (auto& j : jobs) {
      if (!j.error.ok()) return j.error;
      if (j.check.ok) {
        ++r.compressed_files;
        r.compressed_bytes += j.decoded;
      }
      r.checks.push_back(std::move(j.check));
    }
  }
  return finish();
}

std::string NightlyText(const NightlyReport& r) {
  std::ostringstream o;
  o << "Newest backup in " << r.parent_dir << ": " << (r.newest.empty() ? "none" : r.newest) << "\n";
  for (const auto& c : r.checks) {
    o << report_format::Mark(c.ok) << " " << c.kind;
    if (!c.subject.empty()) o << " " << c.subject;
    o << ": " << c.detail << "\n";
  }
  const std::string secs = report_format::Num(r.seconds, "%.2f");
  if (r.outcome().Verified())
    o << "Status: ✅ PASSED (" << r.checks.size() << " checks, " << secs << " s)\n";
  else
    o << "Status: ❌ FAILED (" << r.Failed() << " of " << r.checks.size() << " checks failed, " << secs << " s)\n";
  return o.str();
}

std::string NightlyJson(const NightlyReport& r) {
  nlohmann::ordered_json j;
  j["parent_dir"] = r.parent_dir;
  j["ok"] = r.outcome().Verified();
  j["newest"] = r.newest;
  j["newest_is_dir"] = r.newest_is_dir;
  j["newest_mtime"] = r.newest_mtime;
  j["age_seconds"] = r.age_seconds;
  j["newest_bytes"] = r.newest_bytes;
  j["newest_files"] = r.newest_files;
  j["previous"] = r.previous;
  j["previous_bytes"] = r.previous_bytes;
  j["compressed_files"] = r.compressed_files;
  j["compressed_bytes"] = r.compressed_bytes;
  auto checks = nlohmann::ordered_json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"kind", c.kind}, {"ok", c.ok}, {"subject", c.subject}, {"detail", c.detail}});
  }
  j["checks"] = checks;
  j["failed"] = r.Failed();
  j["seconds"] = r.seconds;
  j["finished_at"] = r.finished_at;
  return report_format::JsonDocument(j);
}

std::string NightlyPrometheus(const NightlyReport& r) {
  std::ostringstream o;
  const std::string label = report_format::PromLabel("dir", r.parent_dir);
  auto metric = [&](const char* name, const char* help, const std::string& value) {
    report_format::WriteGauge(o, name, help, label, value);
  };
  auto num = [](double v) { return report_format::Num(v, "%.3f"); };
  metric("vouch_nightly_backup_ok", "1 when every check of the newest backup passed, else 0.",
         r.outcome().Verified() ? "1" : "0");
  metric("vouch_nightly_backup_checks_failed", "Checks of the newest backup that failed.", std::to_string(r.Failed()));
  metric("vouch_nightly_backup_age_seconds", "Age of the newest backup.", num(r.newest.empty() ? 0 : r.age_seconds));
  metric("vouch_nightly_backup_bytes", "Size of the newest backup.", std::to_string(r.newest_bytes));
  metric("vouch_nightly_backup_size_ratio", "Size of the newest backup over the previous one's (1 without one).",
         num(r.previous_bytes ? static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes) : 1.0));
  metric("vouch_nightly_backup_compressed_files", "Compressed files of the newest backup read to their end.",
         std::to_string(r.compressed_files));
  metric("vouch_nightly_backup_last_run_timestamp_seconds", "Unix time the check ran.", num(r.finished_at));
  return o.str();
}

}  // namespace vouch
