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
#include <optional>

#include "dir_names.h"
#include "vouch/io_buffer.h"
#include "vouch/readers/byte_source.h"

namespace vouch {
namespace {

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
  if (ends(".bz2") || ends(".tbz2")) return Compression::kBzip2;
  return std::nullopt;
}

NightlyCheck MakeCheck(NightlyCheck::Kind kind, bool ok, std::string subject = "", uint64_t matches = 0) {
  NightlyCheck c;
  c.kind = kind;
  c.ok = ok;
  c.subject = std::move(subject);
  c.matches = matches;
  return c;
}

// The backups in `parent` (entries not starting with '.', matching
// `pattern` when given; files and directories), newest first.
Result<std::vector<Entry>> ListBackups(const std::string& parent, const std::string& pattern) {
  std::vector<Entry> entries;
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(parent, &names); err != 0) {
    return IoError("cannot open backup directory " + parent + ": " + std::strerror(err));
  }
  for (const std::string& n : names) {
    if (n[0] == '.') continue;
    if (!pattern.empty() && fnmatch(pattern.c_str(), n.c_str(), 0) != 0) continue;
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
  return entries;
}

// A check per compressed file of the backup: it decompresses to its end.
Status CheckCompressedFiles(const std::vector<FileInfo>& files, int jobs_option, NightlyReport& r) {
  struct Job {
    const FileInfo* file;
    Compression expected;
    NightlyCheck check;
    uint64_t decoded = 0;
    Status error;
  };
  std::vector<Job> jobs;
  for (const auto& f : files) {
    if (auto c = CompressionByName(f.rel))
      jobs.push_back({&f, *c, MakeCheck(NightlyCheck::Kind::kDecompress, false, f.rel), 0, Status::Ok()});
  }
  const int threads = jobs_option > 0 ? jobs_option : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, jobs.size(), size_t{1}, [&](size_t i) {
      Job& j = jobs[i];
      Compression detected = Compression::kNone;
      auto src = OpenDecodedFile(j.file->path, &detected);
      auto damaged = [&](const Status& s) {
        if (IsDamage(s))
          j.check.damage = s.message();
        else
          j.error = s;
      };
      if (!src.ok()) return damaged(src.status());
      j.check.compression = CompressionName(j.expected);
      if (detected != j.expected) {
        j.check.compression_mismatch = true;
        if (detected != Compression::kNone) j.check.found_compression = CompressionName(detected);
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
      j.check.file_bytes = j.file->size;
      j.check.decoded_bytes = j.decoded;
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
  return Status::Ok();
}

}  // namespace

const char* NightlyCheckName(NightlyCheck::Kind kind) {
  switch (kind) {
    case NightlyCheck::Kind::kExists: return "exists";
    case NightlyCheck::Kind::kAge: return "age";
    case NightlyCheck::Kind::kExpected: return "expected";
    case NightlyCheck::Kind::kSize: return "size";
    case NightlyCheck::Kind::kDecompress: return "decompress";
    case NightlyCheck::Kind::kComplete: return "complete";
  }
  return "unknown";
}

Outcome NightlyReport::outcome() const {
  Outcome o;
  if (checks.empty()) o.findings.push_back({FindingKind::kCheckFailed, "nightly", "no check was made"});
  for (const auto& c : checks) {
    if (!c.ok)
      o.findings.push_back({FindingKind::kCheckFailed,
                            c.subject.empty() ? NightlyCheckName(c.kind) : NightlyCheckName(c.kind) + (" " + c.subject),
                            c.damage});
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
  r.max_age_seconds = options.max_age_seconds;
  r.min_size_ratio = options.min_size_ratio;
  r.name_pattern = options.name_pattern;

  auto listed = ListBackups(parent, options.name_pattern);
  if (!listed.ok()) return listed.status();
  const std::vector<Entry>& entries = *listed;

  auto finish = [&]() -> Result<NightlyReport> {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.finished_at = now;
    return std::move(r);
  };

  if (entries.empty()) {
    r.checks.push_back(MakeCheck(NightlyCheck::Kind::kExists, false));
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
  r.checks.push_back(MakeCheck(NightlyCheck::Kind::kExists, r.newest_files > 0));
  r.checks.push_back(MakeCheck(NightlyCheck::Kind::kAge, r.age_seconds <= options.max_age_seconds));

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
    r.checks.push_back(MakeCheck(NightlyCheck::Kind::kExpected, matches > 0, pattern, matches));
  }

  if (options.min_size_ratio > 0) {
    if (entries.size() < 2) {
      r.checks.push_back(MakeCheck(NightlyCheck::Kind::kSize, true));
    } else {
      const Entry& prev = entries[1];
      auto pf = BackupFiles(prev);
      if (!pf.ok()) return pf.status();
      for (const auto& f : *pf) r.previous_bytes += f.size;
      r.previous = prev.path;
      const double ratio =
          r.previous_bytes == 0 ? 1.0 : static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes);
      r.checks.push_back(MakeCheck(NightlyCheck::Kind::kSize, ratio >= options.min_size_ratio));
    }
  }

  if (options.check_compressed) VOUCH_RETURN_IF_ERROR(CheckCompressedFiles(*files, options.jobs, r));
  return finish();
}

}  // namespace vouch
