#include "vouch/readers/checksums.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "vouch/hashing/evp_hash.h"
#include "vouch/io_buffer.h"

namespace vouch {
namespace {

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void HashFile(ChecksumResult& r) {
  int fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.outcome = errno == ENOENT ? ChecksumResult::kMissing : ChecksumResult::kUnreadable;
    r.error = std::strerror(errno);
    return;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  EvpHash h(r.entry.algorithm);
  IoBuffer buf(size_t{1} << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.outcome = ChecksumResult::kUnreadable;
      r.error = std::string("read error at byte offset ") + std::to_string(r.bytes) + ": " + std::strerror(errno);
      close(fd);
      return;
    }
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
    r.bytes += static_cast<uint64_t>(n);
  }
  close(fd);
  r.actual = h.FinishHex();
  r.outcome = r.actual == r.entry.hex ? ChecksumResult::kOk : ChecksumResult::kMismatch;
}

}  // namespace

const char* ChecksumOutcomeName(ChecksumResult::Outcome o) {
  switch (o) {
    case ChecksumResult::kOk: return "OK";
    case ChecksumResult::kMismatch: return "FAILED";
    case ChecksumResult::kMissing: return "MISSING";
    case ChecksumResult::kUnreadable: return "UNREADABLE";
  }
  return "?";
}

bool ChecksumReport::AllOk() const { return !results.empty() && Failed() == 0; }

size_t ChecksumReport::Failed() const {
  return static_cast<size_t>(
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.outcome != ChecksumResult::kOk; }));
}

Result<ChecksumReport> VerifyChecksumFile(const std::string& sidecar, int jobs) {
  std::ifstream in(sidecar, std::ios::binary);
  if (!in) return IoError(sidecar + ": cannot open checksum file: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(sidecar + ": cannot read checksum file");
  ChecksumFile parsed = ParseChecksumFile(text.str());
  ChecksumReport report;
  report.sidecar = sidecar;
  report.malformed_lines = parsed.malformed_lines;
  const std::string dir = Dirname(sidecar);
  for (auto& e : parsed.entries) {
    ChecksumResult r;
    r.path = e.name;
    if (!e.name.empty() && e.name[0] != '/') {
      std::string beside = dir + "/" + e.name;
      struct stat st {};
      if (stat(beside.c_str(), &st) == 0 || stat(e.name.c_str(), &st) != 0) r.path = beside;
    }
    r.entry = std::move(e);
    report.results.push_back(std::move(r));
  }
  tbb::task_arena arena(std::max(1, jobs));
  arena.execute(
      [&] { tbb::parallel_for(size_t{0}, report.results.size(), [&](size_t i) { HashFile(report.results[i]); }); });
  return report;
}

}  // namespace vouch
