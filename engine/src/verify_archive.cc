#include "vouch/engine/verify_archive.h"

#include <sys/stat.h>
#include <tbb/info.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <set>

namespace vouch {
namespace {

// (device, inode) of a file, to match checksum lines to archive files
// whatever path spelled them.
std::optional<std::pair<dev_t, ino_t>> FileId(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

// The archive's files: the file itself, or every regular file of a directory archive.
std::vector<std::string> ArchiveFiles(const std::string& path) {
  std::vector<std::string> files;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& de : std::filesystem::directory_iterator(path, ec)) {
      if (de.is_regular_file(ec)) files.push_back(de.path().string());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  return files;
}

}  // namespace

Outcome ArchiveVerification::outcome() const {
  Outcome o;
  if (damage) o.findings.push_back(*damage);
  if (checksums) {
    for (const auto& r : checksums->results) {
      if (r.outcome == ChecksumResult::kOk) continue;
      o.findings.push_back({FindingKind::kSidecar, r.path,
                            std::string(ChecksumOutcomeName(r.outcome)) + (r.error.empty() ? "" : ": " + r.error)});
    }
    if (!checksums->AllOk() && o.findings.size() == (damage ? 1u : 0u)) {
      o.findings.push_back({FindingKind::kSidecar, checksums->sidecar, "no properly formatted checksum lines found"});
    }
    for (const auto& f : not_covered) {
      o.findings.push_back({FindingKind::kSidecar, f, "not listed in the checksum file"});
    }
  }
  if (!damage) o.unverified = digest.outcome().unverified;
  return o;
}

namespace {

// Reads the archive to its end into v: its facts and digest, or the damage
// found. An error that is not damage stops the verification.
Status ReadArchive(Result<std::unique_ptr<ArchiveReader>> reader, const DigestOptions& options, int jobs,
                   ArchiveVerification& v) {
  if (!reader.ok()) {
    if (!IsDamage(reader.status())) return reader.status();
    v.damage = Finding{FindingKind::kDamaged, v.path, reader.status().message()};
    return Status::Ok();
  }
  v.toc_read = true;
  DigestOptions digest = options;
  digest.jobs = jobs;
  digest.skip_unhashable_tables = true;
  auto report = DigestTables(**reader, digest);
  v.facts = (*reader)->facts();
  if (report.ok()) {
    v.digest = std::move(report).value();
  } else if (IsDamage(report.status())) {
    v.damage = Finding{FindingKind::kDamaged, v.path, report.status().message()};
  } else {
    return report.status();
  }
  return Status::Ok();
}

}  // namespace

Result<ArchiveVerification> VerifyArchive(Result<std::unique_ptr<ArchiveReader>> reader, const std::string& name,
                                          const DigestOptions& options) {
  ArchiveVerification v;
  v.path = name;
  const int jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
  VOUCH_RETURN_IF_ERROR(ReadArchive(std::move(reader), options, jobs, v));
  return v;
}

Result<ArchiveVerification> VerifyArchive(const std::string& path, const VerifyArchiveOptions& options) {
  ArchiveVerification v;
  v.path = path;
  const int jobs = options.digest.jobs > 0 ? options.digest.jobs : tbb::info::default_concurrency();
  // The sidecar's files are hashed while the archive is read.
  std::future<Result<ChecksumReport>> sums;
  if (!options.checksums.empty()) {
    sums = std::async(std::launch::async, [&] { return VerifyChecksumFile(options.checksums, jobs); });
  }
  ArchiveOptions ao;
  ao.jobs = jobs;
  // A checksum file kept inside a directory archive is not one of its files.
  const std::filesystem::path sidecar(options.checksums);
  std::optional<std::pair<dev_t, ino_t>> sidecar_id;
  if (!options.checksums.empty()) {
    sidecar_id = FileId(options.checksums);
    std::string parent = sidecar.has_parent_path() ? sidecar.parent_path().string() : ".";
    auto dir = FileId(parent), archive = FileId(path);
    if (dir && archive && *dir == *archive) ao.foreign_files.push_back(sidecar.filename().string());
  }
  if (Status st = ReadArchive(OpenArchive(path, ao), options.digest, jobs, v); !st.ok()) {
    if (sums.valid()) sums.wait();
    return st;
  }
  if (sums.valid()) {
    auto r = sums.get();
    if (!r.ok()) return r.status();
    v.checksums = std::move(r).value();
    std::set<std::pair<dev_t, ino_t>> listed;
    for (const auto& res : v.checksums->results) {
      if (auto id = FileId(res.path)) listed.insert(*id);
    }
    for (const auto& f : ArchiveFiles(path)) {
      auto id = FileId(f);
      if (id && sidecar_id && *id == *sidecar_id) continue;
      if (!id || !listed.count(*id)) v.not_covered.push_back(f);
    }
  }
  return v;
}

}  // namespace vouch
