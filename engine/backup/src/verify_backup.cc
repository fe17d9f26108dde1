#include "vouch/backup/verify_backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "backup_wal.h"
#include "dir_names.h"
#include "shared_read_ahead.h"
#include "stream_check.h"
#include "vouch/hashing/crc32c.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/io_buffer.h"
#include "vouch/readers/backup_label.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/tar_reader.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

using backup_internal::EvpFor;
using backup_internal::IncrementalVerdict;
using backup_internal::kBlock;
using backup_internal::kPagesReportedPerFile;
using backup_internal::PageSettings;
using backup_internal::PageTally;
using backup_internal::ReadEnd;
using backup_internal::ReadRange;
using backup_internal::SharedReadAhead;
using backup_internal::StreamCheck;
using backup_internal::WalCandidate;
using backup_internal::WalInventory;

constexpr uint64_t kSplit = uint64_t{64} << 20;  // CRC32C files above this are read in parts

// The exemptions of pg_verifybackup (should_ignore_relpath): `relpath` is an
// entry or lies below one.
bool Ignored(std::string_view relpath, const std::vector<std::string>& ignore) {
  for (const auto& v : ignore) {
    if (relpath.substr(0, v.size()) == v && (relpath.size() == v.size() || relpath[v.size()] == '/')) return true;
  }
  return false;
}

class FindingSink {
 public:
  void Add(FindingKind kind, std::string path, std::string detail) {
    std::lock_guard<std::mutex> lock(mu_);
    v_.push_back({std::move(kind), std::move(path), std::move(detail)});
  }
  std::vector<Finding> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(v_);
  }

 private:
  std::mutex mu_;
  std::vector<Finding> v_;
};

struct Shared {
  const BackupManifest* manifest = nullptr;  // null without a usable manifest
  // No manifest, and none expected (VerifyBackupOptions::without_manifest):
  // every file is read to its end and counted verified when it reads.
  bool read_all = false;
  std::unordered_map<std::string_view, size_t> index;
  std::unique_ptr<std::atomic<bool>[]> seen;
  std::vector<std::string> ignore;
  PageSettings pages;
  FindingSink findings;
  std::atomic<uint64_t> files_verified{0}, files_checksummed{0}, bytes{0};
  std::atomic<uint64_t> files_found{0};  // read_all: the files found
  ProgressCounters* progress = nullptr;  // VerifyBackupOptions::progress
  // A file (or a tar member) read to its end: `n` of its bytes checked.
  void AddBytes(uint64_t n) {
    bytes += n;
    if (progress != nullptr) {
      progress->bytes.fetch_add(n, std::memory_order_relaxed);
      progress->extent_done.fetch_add(n, std::memory_order_relaxed);
      progress->tables_done.fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::atomic<uint64_t> incremental_files{0}, incremental_blocks{0};
  // An incremental file read whole: its header's verdict and block count.
  void AddIncremental(const std::string& relpath, const IncrementalVerdict& v) {
    ++incremental_files;
    incremental_blocks += v.blocks;
    if (!v.error.empty()) findings.Add(FindingKind::kIncremental, relpath, v.error);
  }
  std::mutex mu;  // guards what follows
  PageTally page_tally;
  std::map<std::string, PageTally> page_files;  // per file with bad pages

  const ManifestFile* Lookup(std::string_view relpath, size_t* i) const {
    auto it = index.find(relpath);
    if (it == index.end()) return nullptr;
    *i = it->second;
    return &manifest->files[it->second];
  }
  void AddPages(const std::string& relpath, PageTally&& t) {
    std::lock_guard<std::mutex> lock(mu);
    if (t.bad > 0) {  // the file's own entry keeps the bad blocks, the total only counts
      PageTally& f = page_files[relpath];
      f.bad += t.bad;
      for (auto& b : t.first_bad) f.first_bad.push_back(std::move(b));
    }
    t.first_bad.clear();
    page_tally.Merge(std::move(t));
  }
};

// Compares what was read of a listed file (its length and digest bytes)
// with the manifest entry: counts it verified or reports a finding.
void Conclude(Shared& sh, const ManifestFile& m, const std::string& path, const std::string& digest,
              uint64_t bytes_read) {
  if (bytes_read != m.size) {
    sh.findings.Add(FindingKind::kSize, path,
                    "should contain " + std::to_string(m.size) + " bytes, but " + std::to_string(bytes_read) +
                        " were read (changed while being verified?)");
    return;
  }
  if (m.checksum_type == ManifestChecksumType::kNone) {
    ++sh.files_verified;
    return;
  }
  const std::string name = ManifestChecksumTypeName(m.checksum_type);
  if (m.checksum.size() != ManifestChecksumLength(m.checksum_type)) {
    sh.findings.Add(FindingKind::kChecksum, path,
                    "the manifest's " + name + " checksum has " + std::to_string(m.checksum.size()) +
                        " bytes, expected " + std::to_string(ManifestChecksumLength(m.checksum_type)));
    return;
  }
  if (digest != m.checksum) {
    sh.findings.Add(
        FindingKind::kChecksum, path,
        "checksum mismatch: " + name + " " + HexEncode(digest) + ", the manifest says " + HexEncode(m.checksum));
    return;
  }
  ++sh.files_verified;
  ++sh.files_checksummed;
}

// Runs fn(k) for k in [0, n), in that order of start, on `jobs` threads:
// each thread takes the next k when it is free (list scheduling). With the
// work sorted largest first, one big file cannot end up queued behind many
// small ones on the same thread, which tbb::parallel_for's range splitting
// allows (measured: one thread did 97% of a 1 GB backup with --jobs 2).
// Each thread calls idle() once the queue is empty.
template <typename Fn, typename Idle>
void RunInOrder(int jobs, size_t n, Fn&& fn, Idle&& idle) {
  const int threads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(jobs, 1)), std::max<size_t>(n, 1)));
  std::atomic<size_t> next{0};
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(
        0, threads, 1,
        [&](int) {
          for (size_t k = next.fetch_add(1); k < n; k = next.fetch_add(1)) fn(k);
          idle();
        },
        tbb::simple_partitioner());
  });
}

template <typename Fn>
void RunInOrder(int jobs, size_t n, Fn&& fn) {
  RunInOrder(jobs, n, std::forward<Fn>(fn), [] {});
}

// ---------------------------------------------------------------- plain

struct DiskFile {
  std::string relpath;
  uint64_t size = 0;
  std::string path;  // where it lies when that is not root/relpath (a tablespace kept beside the backup)
};

// Walks the directory open as dir_fd (root/rel), by descriptor: a stat by
// name from the backup's root resolved the whole path again for each of a
// backup's ~1,300 files, before the first byte could be hashed.
Status WalkAt(int dir_fd, const std::string& root, const std::string& rel, Shared& sh, std::vector<DiskFile>* out) {
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(dir_fd, &names); err != 0) {
    return IoError("cannot read directory " + (rel.empty() ? root : root + "/" + rel) + ": " + std::strerror(err));
  }
  for (const auto& name : names) {
    const std::string r = rel.empty() ? name : rel + "/" + name;
    if (Ignored(r, sh.ignore)) continue;
    struct stat st {};
    if (fstatat(dir_fd, name.c_str(), &st, 0) != 0) {
      return IoError("cannot stat " + root + "/" + r + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      const int sub = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub < 0) return IoError("cannot read directory " + root + "/" + r + ": " + std::strerror(errno));
      Status s = WalkAt(sub, root, r, sh, out);
      ::close(sub);
      VOUCH_RETURN_IF_ERROR(s);
    } else if (S_ISREG(st.st_mode)) {
      out->push_back({r, static_cast<uint64_t>(st.st_size), {}});
    } else {
      sh.findings.Add(FindingKind::kType, r, "is not a file or directory");
    }
  }
  return Status::Ok();
}

Status Walk(const std::string& root, Shared& sh, std::vector<DiskFile>* out) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot read directory " + root + ": " + std::strerror(errno));
  Status s = WalkAt(fd, root, "", sh, out);
  ::close(fd);
  return s;
}

// A tablespace kept outside the data directory (BackupWithoutManifest::
// tablespaces): its files, as pg_tblspc/OID/... of the backup.
Status WalkTablespace(const std::string& oid, const std::string& dir, Shared& sh, std::vector<DiskFile>* out) {
  std::vector<DiskFile> files;
  VOUCH_RETURN_IF_ERROR(Walk(dir, sh, &files));
  for (auto& f : files) {
    f.path = dir + "/" + f.relpath;
    f.relpath = "pg_tblspc/" + oid + "/" + f.relpath;
    out->push_back(std::move(f));
  }
  return Status::Ok();
}

struct FileJob {
  std::string relpath;
  std::string path;  // DiskFile::path
  uint64_t size = 0;
  const ManifestFile* listed = nullptr;  // verify against it
  bool pages = false;
  bool incremental = false;  // an INCREMENTAL.* file: its header is checked
  uint32_t segno = 0;
};

struct Piece {
  size_t job = 0;
  uint64_t begin = 0, end = 0;  // end UINT64_MAX: to the end of the file
  bool whole() const { return begin == 0 && end == UINT64_MAX; }
  uint32_t crc = 0;
  std::string digest;
  uint64_t bytes = 0;
  PageTally tally;
  Status error;
  std::optional<IncrementalVerdict> incremental;  // an incremental file read to its end
};

// A whole file with an ordered digest gets a shared read-ahead when it is
// large and would on its own take longer than a fair share of the run
// (size x jobs > all bytes): then its one hashing thread is the critical
// path. (With --jobs 1 there is nobody to read ahead.)
constexpr uint64_t kReadAheadFrom = uint64_t{64} << 20;

// Reads and checks one piece: through `ahead` when it has one, else with
// buf, calling help() between blocks.
template <typename Help>
void RunPiece(const std::string& root, const FileJob& job, Piece& piece, IoBuffer& buf, const PageSettings& ps,
              SharedReadAhead* ahead, Help&& help) {
  struct CloseAhead {
    SharedReadAhead* a;
    ~CloseAhead() {
      if (a != nullptr) a->Close();
    }
  } close_ahead{ahead};
  const std::string path = job.path.empty() ? root + "/" + job.relpath : job.path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    piece.error = IoError("cannot open " + path + ": " + std::strerror(errno));
    return;
  }
  posix_fadvise(fd, static_cast<off_t>(piece.begin), 0, POSIX_FADV_SEQUENTIAL);
  const ManifestChecksumType type = job.listed ? job.listed->checksum_type : ManifestChecksumType::kNone;
  StreamCheck sc(type, job.pages, job.segno, ps, piece.begin);
  if (job.incremental) sc.Incremental(job.size);
  const ReadEnd r = ahead != nullptr
                        ? ahead->Run(fd, piece.begin, piece.end, [&](const char* p, size_t n) { sc.Update(p, n); })
                        : ReadRange(fd, piece.begin, piece.end, buf.data(), buf.size(), [&](const char* p, size_t n) {
                            sc.Update(p, n);
                            help();
                          });
  ::close(fd);
  if (r.error != 0) {
    piece.error =
        IoError(path + ": read error at byte offset " + std::to_string(r.offset) + ": " + std::strerror(r.error));
  }
  if (piece.end == UINT64_MAX) sc.Finish();
  piece.bytes = sc.bytes();
  piece.crc = sc.crc();
  if (piece.whole()) piece.digest = sc.Digest();
  piece.tally = std::move(sc.tally());
  if (job.incremental && r.error == 0) piece.incremental = sc.incremental_verdict();
}

// What the pages of a file in the backup are checked as: a relation file's
// data pages (numbered from its segment number), an INCREMENTAL.* file's
// (its header is checked whether pages are or not), or none. A relation
// file's name with a bad segment number is a finding when pages are checked.
struct RelationFile {
  bool pages = false;
  bool incremental = false;
  uint32_t segno = 0;
};

RelationFile ClassifyForPages(Shared& sh, const std::string& relpath) {
  RelationFile r;
  const RelationFileKind k = ClassifyRelationFile(relpath, &r.segno);
  r.incremental = k == RelationFileKind::kIncremental;
  if (sh.pages.enabled) {
    r.pages = k == RelationFileKind::kChecksummed || r.incremental;
    if (k == RelationFileKind::kBadSegmentNumber) {
      sh.findings.Add(FindingKind::kPage, relpath,
                      "invalid segment number in the file name: its pages cannot be checked");
    }
  }
  return r;
}

// The files of a data directory whose bytes must be read. Each is matched
// with its manifest entry first: one not listed, of another size, or listed
// without a checksum is judged without reading it.
std::vector<FileJob> PlanPlainFiles(Shared& sh, const std::vector<DiskFile>& disk) {
  std::vector<FileJob> work;
  for (const auto& f : disk) {
    FileJob j;
    j.relpath = f.relpath;
    j.path = f.path;
    j.size = f.size;
    size_t i = 0;
    if (sh.manifest) {
      const ManifestFile* m = sh.Lookup(f.relpath, &i);
      if (m == nullptr) {
        sh.findings.Add(FindingKind::kExtra, f.relpath, "is present on disk but not in the manifest");
      } else {
        sh.seen[i] = true;
        if (m->size != f.size) {
          sh.findings.Add(FindingKind::kSize, f.relpath,
                          "has size " + std::to_string(f.size) + " on disk but size " + std::to_string(m->size) +
                              " in the manifest");
        } else if (m->checksum_type == ManifestChecksumType::kNone) {
          ++sh.files_verified;
        } else {
          j.listed = m;
        }
      }
    }
    const RelationFile r = ClassifyForPages(sh, f.relpath);
    j.pages = r.pages;
    j.incremental = r.incremental;
    j.segno = r.segno;
    if (j.listed || j.pages || j.incremental || sh.read_all) work.push_back(std::move(j));
  }
  return work;
}

// Parts: a file whose digest is a CRC (or that is only page-checked) is
// split at kSplit boundaries, so that one big file keeps every thread busy.
std::vector<Piece> SplitIntoPieces(const std::vector<FileJob>& work) {
  std::vector<Piece> pieces;
  for (size_t i = 0; i < work.size(); ++i) {
    const FileJob& j = work[i];
    const bool splittable = !j.incremental && (!j.listed || j.listed->checksum_type == ManifestChecksumType::kCrc32c);
    if (splittable && j.size > 2 * kSplit) {
      for (uint64_t b = 0; b < j.size; b += kSplit) {
        Piece p;
        p.job = i;
        p.begin = b;
        p.end = b + kSplit >= j.size ? UINT64_MAX : b + kSplit;
        pieces.push_back(std::move(p));
      }
    } else {
      Piece p;
      p.job = i;
      p.end = UINT64_MAX;
      pieces.push_back(std::move(p));
    }
  }
  return pieces;
}

// The order the pieces are read in: largest first (see RunInOrder).
std::vector<size_t> LargestFirst(const std::vector<Piece>& pieces, const std::vector<FileJob>& work) {
  std::vector<size_t> order(pieces.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto span = [&](const Piece& p) { return std::min(p.end, work[p.job].size) - p.begin; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return span(pieces[a]) > span(pieces[b]); });
  return order;
}

// The critical pieces' read-aheads (fewer than jobs of them: each is more
// than 1/jobs of the bytes), and the help every other thread gives them.
struct ReadAheads {
  std::vector<std::unique_ptr<SharedReadAhead>> owned;
  std::vector<SharedReadAhead*> of_piece;  // by piece; null for most

  ReadAheads(const std::vector<Piece>& pieces, const std::vector<FileJob>& work, int jobs)
      : of_piece(pieces.size(), nullptr) {
    uint64_t total = 0;
    for (const auto& j : work) total += j.size;
    for (size_t i = 0; i < pieces.size() && jobs > 1; ++i) {
      const FileJob& j = work[pieces[i].job];
      const bool ordered_digest = j.listed && j.listed->checksum_type != ManifestChecksumType::kCrc32c &&
                                  j.listed->checksum_type != ManifestChecksumType::kNone;
      const bool critical = j.size >= kReadAheadFrom && j.size * static_cast<uint64_t>(jobs) > total;
      if (pieces[i].whole() && ordered_digest && critical) {
        owned.push_back(std::make_unique<SharedReadAhead>());
        of_piece[i] = owned.back().get();
      }
    }
  }
  void Help() {
    for (auto& a : owned) a->Help();
  }
  void HelpUntilDone() {
    for (auto& a : owned) a->HelpUntilDone();
  }
};

// Joins the parts of each file in order and judges the file: its pages,
// its incremental header, its size and checksum.
Status JoinPieces(Shared& sh, const std::vector<FileJob>& work, std::vector<Piece>& pieces) {
  size_t k = 0;
  for (size_t i = 0; i < work.size(); ++i) {
    const FileJob& j = work[i];
    uint64_t bytes = 0;
    uint32_t crc_value = 0;
    std::string digest;
    PageTally tally;
    for (; k < pieces.size() && pieces[k].job == i; ++k) {
      Piece& p = pieces[k];
      if (!p.error.ok()) return p.error;
      crc_value = p.begin == 0 ? p.crc : Crc32cCombine(crc_value, p.crc, p.bytes);
      bytes += p.bytes;
      if (!p.digest.empty()) digest = p.digest;
      tally.Merge(std::move(p.tally));
      if (p.incremental) sh.AddIncremental(j.relpath, *p.incremental);
    }
    sh.AddBytes(bytes);
    if (j.pages) sh.AddPages(j.relpath, std::move(tally));
    if (sh.read_all) ++sh.files_verified;  // read to its end
    if (!j.listed) continue;
    const bool crc = j.listed->checksum_type == ManifestChecksumType::kCrc32c;
    Conclude(sh, *j.listed, j.relpath, crc ? StreamCheck::CrcBytes(crc_value) : digest, bytes);
  }
  return Status::Ok();
}

// `side`, when given, is more work of the run that needs none of the files
// (the WAL check): it is queued after them, where the threads not on the
// critical path (one big SHA-2 file) take it while that file is hashed.
Status VerifyPlainFiles(const std::string& root, Shared& sh, const std::vector<DiskFile>& disk, int jobs,
                        const std::function<Status()>& side) {
  const std::vector<FileJob> work = PlanPlainFiles(sh, disk);
  std::vector<Piece> pieces = SplitIntoPieces(work);
  const std::vector<size_t> order = LargestFirst(pieces, work);
  ReadAheads aheads(pieces, work, jobs);
  auto help = [&] { aheads.Help(); };
  tbb::enumerable_thread_specific<IoBuffer> buffers([] { return IoBuffer(kBlock); });
  Status side_status;
  RunInOrder(
      jobs, order.size() + (side ? 1 : 0),
      [&](size_t k) {
        if (k == order.size()) {
          side_status = side();
          return;
        }
        Piece& p = pieces[order[k]];
        RunPiece(root, work[p.job], p, buffers.local(), sh.pages, aheads.of_piece[order[k]], help);
      },
      [&] { aheads.HelpUntilDone(); });
  VOUCH_RETURN_IF_ERROR(JoinPieces(sh, work, pieces));
  return side_status;
}

// ---------------------------------------------------------------- tar

struct TarPlan {
  std::string file;    // name in the backup directory
  std::string prefix;  // prepended to member names: "", "pg_wal/", "pg_tblspc/OID/"
  bool damaged = false;
};

// "base.tar", "pg_wal.tar.gz", "16385.tar.zst" → the part before ".tar".
std::optional<std::string> TarStem(const std::string& name) {
  for (const char* ext : {".tar", ".tar.gz", ".tar.zst", ".tar.lz4"}) {
    const size_t n = std::strlen(ext);
    if (name.size() > n && name.compare(name.size() - n, n, ext) == 0) {
      std::string stem = name.substr(0, name.size() - n);
      bool digits = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (stem == "base" || stem == "pg_wal" || digits) return stem;
    }
  }
  return std::nullopt;
}

struct TarCaptures {
  std::mutex mu;
  std::string pg_control, pg_version, backup_label;
  std::vector<WalCandidate> wal;
  std::map<uint32_t, backup_internal::WalHistoryFile> histories;
};

// A tar member's name as a path below its tar file's root: without "./" in
// front and "/" at the end.
std::string MemberName(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

// A member of pg_wal/ named like a WAL file: a segment's page headers, or a
// history file's text, kept for the WAL check. `base` is its name in
// pg_wal/, `where` how findings name it.
Status CaptureTarWal(TarReader& tar, const TarMember& m, const std::string& base, const std::string& where,
                     TarCaptures& cap) {
  auto f = ParseWalFileName(base);
  if (!f || base.find('/') != std::string::npos) return Status::Ok();
  if (f->kind == WalFileName::kSegment || f->kind == WalFileName::kPartial) {
    WalCandidate c{where, "", *f, std::nullopt, Status::Ok(), ""};
    auto scan = ScanWalSegment(tar.Data());
    if (!scan.ok()) return scan.status();
    c.scan = std::move(scan).value();
    std::lock_guard<std::mutex> lock(cap.mu);
    cap.wal.push_back(std::move(c));
  } else if (f->kind == WalFileName::kHistory) {
    auto text = ReadPrefix(tar.Data(), m.size);
    if (!text.ok()) return text.status();
    std::lock_guard<std::mutex> lock(cap.mu);
    cap.histories.emplace(f->timeline, backup_internal::WalHistoryFile{where, std::move(text).value()});
  }
  return Status::Ok();
}

// The manifest entry a tar member is verified against: null when there is
// none (a finding), when the path was seen before or the size differs
// (findings too). An entry without a checksum is verified by its size here.
const ManifestFile* MatchTarMember(Shared& sh, const std::string& rel, uint64_t size, const std::string& tar_file) {
  if (!sh.manifest) return nullptr;
  size_t idx = 0;
  const ManifestFile* listed = sh.Lookup(rel, &idx);
  if (listed == nullptr) {
    sh.findings.Add(FindingKind::kExtra, rel, "is present in " + tar_file + " but not in the manifest");
    return nullptr;
  }
  if (sh.seen[idx].exchange(true)) {
    sh.findings.Add(FindingKind::kExtra, rel, "appears more than once in the backup (again in " + tar_file + ")");
    return nullptr;
  }
  if (listed->size != size) {
    sh.findings.Add(FindingKind::kSize, rel,
                    "has size " + std::to_string(size) + " in " + tar_file + " but size " +
                        std::to_string(listed->size) + " in the manifest");
    return nullptr;
  }
  if (listed->checksum_type == ManifestChecksumType::kNone) ++sh.files_verified;
  return listed;
}

// A member that is not WAL, at `rel` in the data directory: matched with the
// manifest, and read when its checksum, its pages or its incremental header
// need its bytes (else TarReader skips them). pg_control, PG_VERSION and
// backup_label are kept for the checks after the scan.
Status CheckTarMember(TarReader& tar, const TarMember& m, const std::string& rel, const std::string& tar_file,
                      Shared& sh, TarCaptures& cap, IoBuffer& buf) {
  const ManifestFile* listed = MatchTarMember(sh, rel, m.size, tar_file);
  const RelationFile r = ClassifyForPages(sh, rel);
  const bool capture = rel == "global/pg_control" || rel == "PG_VERSION" || rel == "backup_label";
  const bool verify = listed && listed->checksum_type != ManifestChecksumType::kNone;
  if (!verify && !r.pages && !capture && !r.incremental && !sh.read_all) return Status::Ok();

  StreamCheck sc(verify ? listed->checksum_type : ManifestChecksumType::kNone, r.pages, r.segno, sh.pages, 0);
  if (r.incremental) sc.Incremental(m.size);
  std::string captured;
  while (true) {
    auto got = ReadUpTo(tar.Data(), buf.data(), buf.size());
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    sc.Update(buf.data(), *got);
    if (capture && captured.size() < 65536) captured.append(buf.data(), std::min<size_t>(*got, 65536));
  }
  sc.Finish();
  sh.AddBytes(sc.bytes());
  if (r.incremental) sh.AddIncremental(rel, sc.incremental_verdict());
  if (r.pages) sh.AddPages(rel, std::move(sc.tally()));
  if (capture) {
    std::lock_guard<std::mutex> lock(cap.mu);
    (rel == "global/pg_control" ? cap.pg_control
     : rel == "PG_VERSION"      ? cap.pg_version
                                : cap.backup_label) = std::move(captured);
  }
  if (verify) Conclude(sh, *listed, rel, sc.Digest(), sc.bytes());
  if (sh.read_all) {
    ++sh.files_verified;  // read to its end
    ++sh.files_found;
  }
  return Status::Ok();
}

// Every member of one tar file in turn. Damage (kCorrupt, kTruncated) ends
// the scan and is returned, as are errors.
Status ScanTarMembers(const std::string& path, const TarPlan& plan, Shared& sh, TarCaptures& cap, IoBuffer& buf) {
  auto src = OpenDecodedFile(path);
  if (!src.ok()) return src.status();
  TarReader tar(**src, plan.file);
  TarMember m;
  while (true) {
    auto more = tar.Next(&m);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    const std::string name = MemberName(m.name);
    if (name.empty() || m.type == '5') continue;
    const std::string rel = plan.prefix + name;
    if (m.type == '2') continue;  // pg_tblspc/OID links to tablespaces (their own OID.tar)
    if (m.type != '0' && m.type != '\0' && m.type != '7') {
      if (!Ignored(rel, sh.ignore))
        sh.findings.Add(FindingKind::kType, rel, "tar member of type '" + std::string(1, m.type) + "' in " + plan.file);
      continue;
    }
    if (rel.rfind("pg_wal/", 0) == 0) {
      VOUCH_RETURN_IF_ERROR(CaptureTarWal(tar, m, rel.substr(7), plan.file + ":" + name, cap));
      continue;
    }
    if (Ignored(rel, sh.ignore)) continue;
    VOUCH_RETURN_IF_ERROR(CheckTarMember(tar, m, rel, plan.file, sh, cap, buf));
  }
}

// One tar file: damage is a finding that marks it damaged (what was not
// reached in it is counted, not named, by the missing-files check).
Status ScanTar(const std::string& root, TarPlan& plan, Shared& sh, TarCaptures& cap, IoBuffer& buf) {
  Status s = ScanTarMembers(root + "/" + plan.file, plan, sh, cap, buf);
  if (s.ok() || !IsDamage(s)) return s;
  plan.damaged = true;
  sh.findings.Add(FindingKind::kDamaged, plan.file, s.message());
  return Status::Ok();
}

// ---------------------------------------------------------------- helpers

Result<std::string> ReadWholeFile(const std::string& path, size_t limit, bool* missing) {
  *missing = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      *missing = true;
      return std::string();
    }
    return IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string out;
  alignas(64) char buf[65536];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return IoError(path + ": read error: " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string RealPath(const std::string& p) {
  char* r = ::realpath(p.c_str(), nullptr);
  if (r == nullptr) return "";
  std::string s(r);
  std::free(r);
  return s;
}

bool FindingLess(const Finding& a, const Finding& b) {
  // By the kind's name, then subject: the order reports have always had.
  if (a.kind != b.kind) return FindingKindName(a.kind) < FindingKindName(b.kind);
  if (a.subject != b.subject) return a.subject < b.subject;
  return a.detail < b.detail;
}

// ---------------------------------------------------------------- the verifier

// One run of verify-backup, in phases like pg_verifybackup's: the layout
// (plain or tar), the manifest, pg_control (with backup_label), the files,
// the files missing, the pages, the WAL, and vouch's own sidecar. The state
// the phases share lives here, what the reading threads share in sh_.
//
// The formats take the phases in different orders: a data directory's
// pg_control is read before its files (the page checks go by it, and the
// WAL check, which needs its segment size, runs beside the files), while a
// tar backup's comes in base.tar and is judged once the tars are read.
class BackupVerifier {
 public:
  explicit BackupVerifier(const VerifyBackupOptions& options) : options_(options) {}
  BackupVerifier(const BackupVerifier&) = delete;
  BackupVerifier& operator=(const BackupVerifier&) = delete;

  // The options and the directory; the run's threads and exemptions.
  Status Start(const std::string& dir);
  // Tar files or a data directory. A data directory's walk starts here, to
  // run while the manifest is read and parsed.
  Status CheckLayout();
  // backup_manifest: read, parsed, its own checksum.
  Status CheckManifest();
  // global/pg_control (its CRC, the system identifier against the
  // manifest's, the major version) and backup_label: read from a data
  // directory, or as base.tar gave them.
  Status CheckControlFile();
  // A data directory's files: each found one against the manifest, read
  // once for its size, checksum and pages; the WAL check runs beside them.
  Status CheckPlainFiles();
  // A tar backup's files: each tar streamed member by member, likewise.
  Status CheckTarFiles();
  // What the manifest lists and the backup does not hold.
  void CheckMissingFiles();
  // backup_label's INCREMENTAL FROM against the INCREMENTAL files found.
  void CheckIncremental();
  // The data page checksums' totals and findings.
  void CheckPages();
  // The WAL the backup needs, from its pg_wal and the WAL archives.
  Status CheckWal();
  // The sha256sum/md5sum sidecar.
  Status CheckSidecar();
  // The findings in their order, the totals and the times.
  BackupVerification Finish();

  bool plain() const { return v_.format == "plain"; }

 private:
  Status ReadControlFiles();
  void LoadControl();
  void ParseLabel();
  void SetPageChecks();
  void ConcludeControl();
  std::string ControlProblem() const;
  void IndexManifest();
  void ExtrasBesideTars(const std::vector<std::string>& others);

  const VerifyBackupOptions& options_;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::optional<uint64_t> until_;  // options_.until_lsn parsed
  std::jthread warm_openssl_;
  std::optional<tbb::global_control> parallelism_;
  BackupVerification v_;
  Shared sh_;
  std::vector<TarPlan> tars_;
  BackupManifest manifest_;
  std::optional<uint64_t> backup_start_;  // the manifest's first WAL range, else backup_label's start
  // pg_control, parsed once: have_control_ when it parses (what the page
  // checks go by while the files are read), its CRC judged in
  // ConcludeControl (which clears have_control_ when it fails).
  ControlFile control_;
  bool have_control_ = false;
  bool control_missing_ = false;
  Status control_status_;
  std::string control_bytes_, pg_version_, backup_label_;
  std::optional<BackupLabel> label_;  // backup_label, when there is one and it parses
  TarCaptures captures_;
  WalInventory wal_;
  uint64_t wal_bytes_ = 0;
  std::vector<Finding> wal_findings_;
  // A data directory's walk, running from CheckLayout to CheckPlainFiles.
  // Declared last: it is joined before what it writes goes away.
  std::vector<DiskFile> disk_;
  Status walk_status_;
  std::jthread walker_;
};

Status BackupVerifier::Start(const std::string& dir_in) {
  if (options_.jobs < 0) return InvalidArgument("jobs must be at least 1 (0 = all cores)");
  if (options_.until_lsn) {
    until_ = ParseLsn(*options_.until_lsn);
    if (!until_) return InvalidArgument("not an LSN: \"" + *options_.until_lsn + "\" (expected the form 16/B374D848)");
  }
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return IoError("cannot open backup directory " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgument(dir + " is not a directory: verify-backup reads the directory pg_basebackup -D wrote");
  }

  // OpenSSL's first digest loads its configuration and default provider
  // (about 2 ms): done here beside the layout and manifest reads, not in
  // the manifest's checksum just before the first file can be hashed.
  warm_openssl_ = std::jthread([] { EvpHash(HashAlgorithm::kSha256).FinishHex(); });

  v_.dir = dir;
  v_.jobs = options_.jobs > 0 ? options_.jobs : tbb::info::default_concurrency();
  v_.page_checks_requested = options_.page_checksums;
  // As many workers as asked for, even above the core count (I/O waits).
  parallelism_.emplace(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(v_.jobs));
  sh_.ignore = {"backup_manifest", "pg_wal", "postgresql.auto.conf", "recovery.signal", "standby.signal"};
  for (const auto& i : options_.ignore) sh_.ignore.push_back(i);
  // A checksum sidecar kept inside the backup directory is not part of it.
  if (!options_.checksums.empty()) {
    const std::string rd = RealPath(dir), rs = RealPath(options_.checksums);
    if (!rd.empty() && rs.size() > rd.size() + 1 && rs.compare(0, rd.size(), rd) == 0 && rs[rd.size()] == '/') {
      sh_.ignore.push_back(rs.substr(rd.size() + 1));
    }
  }
  return Status::Ok();
}

Status BackupVerifier::CheckLayout() {
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(v_.dir, &names); err != 0) {
    return IoError("cannot open directory " + v_.dir + ": " + std::strerror(err));
  }
  bool has_base_tar = false;
  for (const auto& n : names) {
    auto stem = TarStem(n);
    if (stem && *stem == "base") has_base_tar = true;
  }
  std::vector<std::string> others;
  for (const auto& n : names) {
    auto stem = TarStem(n);
    if (has_base_tar && stem) {
      TarPlan p;
      p.file = n;
      p.prefix = *stem == "base" ? "" : *stem == "pg_wal" ? "pg_wal/" : "pg_tblspc/" + *stem + "/";
      tars_.push_back(std::move(p));
    } else {
      others.push_back(n);
    }
  }
  const bool looks_plain = std::find(names.begin(), names.end(), "PG_VERSION") != names.end() ||
                           std::find(names.begin(), names.end(), "global") != names.end();
  const bool has_manifest = std::find(names.begin(), names.end(), "backup_manifest") != names.end();
  if (!has_base_tar && !looks_plain && !has_manifest) {
    return Unsupported(v_.dir + " is not a base backup: no backup_manifest, base.tar or PG_VERSION in it");
  }
  v_.format = has_base_tar ? "tar" : "plain";
  for (const auto& t : tars_) v_.archives.push_back(t.file);
  if (plain()) {
    walker_ = std::jthread([this, dir = v_.dir] {
      walk_status_ = Walk(dir, sh_, &disk_);
      if (!walk_status_.ok() || !options_.without_manifest) return;
      for (const auto& [oid, path] : options_.without_manifest->tablespaces) {
        walk_status_ = WalkTablespace(oid, path, sh_, &disk_);
        if (!walk_status_.ok()) return;
      }
    });
  } else {
    ExtrasBesideTars(others);
  }
  return Status::Ok();
}

void BackupVerifier::ExtrasBesideTars(const std::vector<std::string>& others) {
  for (const auto& n : others) {
    if (n == "backup_manifest" || Ignored(n, sh_.ignore)) continue;
    sh_.findings.Add(FindingKind::kExtra, n, "is in the directory of a tar-format backup but is none of its tar files");
  }
}

Status BackupVerifier::CheckManifest() {
  bool missing = false;
  auto text = ReadWholeFile(v_.dir + "/backup_manifest", SIZE_MAX, &missing);
  if (!text.ok()) return text.status();
  if (missing && options_.without_manifest) {
    v_.no_manifest = options_.without_manifest->why;
    sh_.read_all = true;
    backup_start_ = options_.without_manifest->wal.start_lsn;
    return Status::Ok();
  }
  if (missing) {
    sh_.findings.Add(FindingKind::kManifest, "backup_manifest", "is missing: the backup cannot be checked against it");
    return Status::Ok();
  }
  auto parsed = ParseBackupManifest(*text);
  if (!parsed.ok()) {
    sh_.findings.Add(FindingKind::kManifest, "backup_manifest", parsed.status().message());
    return Status::Ok();
  }
  manifest_ = std::move(parsed).value();
  v_.manifest_version = manifest_.version;
  v_.manifest_checksum_ok = manifest_.ChecksumMatches();
  if (!v_.manifest_checksum_ok) {
    sh_.findings.Add(FindingKind::kManifest, "backup_manifest",
                     "manifest checksum mismatch: the manifest says " + manifest_.manifest_checksum +
                         ", its contents hash to " + manifest_.computed_checksum);
  }
  IndexManifest();
  if (v_.manifest_version != 0 && !manifest_.wal_ranges.empty()) {
    backup_start_ = manifest_.wal_ranges.front().start_lsn;
    for (const auto& r : manifest_.wal_ranges) backup_start_ = std::min(*backup_start_, r.start_lsn);
  }
  return Status::Ok();
}

// The manifest's files: counted, their checksum algorithms, and the index
// by path the reading threads look them up in.
void BackupVerifier::IndexManifest() {
  v_.files_listed = manifest_.files.size();
  std::set<std::string> algos;
  for (const auto& f : manifest_.files) {
    if (f.checksum_type != ManifestChecksumType::kNone) algos.insert(ManifestChecksumTypeName(f.checksum_type));
  }
  v_.checksum_algorithms.assign(algos.begin(), algos.end());
  sh_.manifest = &manifest_;
  sh_.index.reserve(manifest_.files.size());
  for (size_t i = 0; i < manifest_.files.size(); ++i) sh_.index.emplace(manifest_.files[i].path, i);
  sh_.seen = std::make_unique<std::atomic<bool>[]>(manifest_.files.size());
  for (const auto& f : manifest_.files) v_.files_exempt += Ignored(f.path, sh_.ignore) ? 1 : 0;
  if (ProgressCounters* p = options_.progress) {
    p->Start();
    uint64_t total = 0;
    for (const auto& f : manifest_.files) total += f.size;
    p->extent_total = total;
    p->tables_total = manifest_.files.size();
    sh_.progress = p;
  }
}

Status BackupVerifier::CheckControlFile() {
  if (plain()) {
    VOUCH_RETURN_IF_ERROR(ReadControlFiles());
  } else {
    control_bytes_ = std::move(captures_.pg_control);
    control_missing_ = control_bytes_.empty();
    pg_version_ = std::move(captures_.pg_version);
    backup_label_ = std::move(captures_.backup_label);
  }
  LoadControl();
  ParseLabel();
  SetPageChecks();
  ConcludeControl();
  return Status::Ok();
}

// A data directory's pg_control, PG_VERSION and backup_label. Only
// pg_control's read errors count: the other two are optional to the checks.
Status BackupVerifier::ReadControlFiles() {
  auto cb = ReadWholeFile(v_.dir + "/global/pg_control", 65536, &control_missing_);
  if (!cb.ok()) return cb.status();
  control_bytes_ = std::move(cb).value();
  bool missing = false;
  auto pv = ReadWholeFile(v_.dir + "/PG_VERSION", 64, &missing);
  if (pv.ok()) pg_version_ = *pv;
  auto bl = ReadWholeFile(v_.dir + "/backup_label", 65536, &missing);
  if (bl.ok()) backup_label_ = *bl;
  return Status::Ok();
}

void BackupVerifier::LoadControl() {
  if (control_missing_) return;
  auto c = ParseControlFile(control_bytes_);
  if (!c.ok()) {
    control_status_ = c.status();
    return;
  }
  control_ = *c;
  have_control_ = true;
}

// backup_label: where the backup starts and, for an incremental one, what
// it follows.
void BackupVerifier::ParseLabel() {
  if (backup_label_.empty()) return;
  auto label = ParseBackupLabel(backup_label_);
  if (!label.ok()) {
    sh_.findings.Add(FindingKind::kLabel, "backup_label", label.status().message());
    return;
  }
  label_ = *label;
  v_.start_lsn = label_->start_lsn;
  v_.start_tli = label_->start_tli;
  if (label_->incremental_from_lsn) {
    v_.incremental.incremental = true;
    v_.incremental.from_lsn = *label_->incremental_from_lsn;
    v_.incremental.from_tli = *label_->incremental_from_tli;
  }
}

// What the page checks go by: a data directory's pg_control before its
// files are read; in a tar backup they were made while streaming, and are
// dropped when pg_control (sent last) says they do not count.
void BackupVerifier::SetPageChecks() {
  if (!options_.page_checksums) return;
  const bool checksums_on = have_control_ && control_.data_checksum_version != 0;
  if (plain()) {
    sh_.pages.enabled = checksums_on;
    if (have_control_ && control_.relseg_size != 0) sh_.pages.relseg_size = control_.relseg_size;
    if (!backup_start_ && label_) backup_start_ = label_->start_lsn;
    sh_.pages.skip_from_lsn = backup_start_.value_or(0);
  } else if (!checksums_on) {
    std::lock_guard<std::mutex> lock(sh_.mu);
    sh_.page_tally = {};
    sh_.page_files.clear();
    sh_.pages.enabled = false;
  }
}

// pg_control's verdict, the system identifier and the major version.
void BackupVerifier::ConcludeControl() {
  if (!control_missing_) {
    if (!control_status_.ok()) {
      if (control_status_.code() == StatusCode::kUnsupported) {
        v_.unverified.push_back("global/pg_control: " + control_status_.message() +
                                ": its CRC and the system identifier were not checked");
      } else {
        sh_.findings.Add(FindingKind::kControl, "global/pg_control", control_status_.message());
      }
    } else if (!control_.CrcOk()) {
      sh_.findings.Add(FindingKind::kControl, "global/pg_control",
                       "CRC " + HexEncode(StreamCheck::CrcBytes(control_.crc_stored)) +
                           " in the file, its contents give " +
                           HexEncode(StreamCheck::CrcBytes(control_.crc_computed)));
    } else {
      v_.system_identifier = control_.system_identifier;
      v_.data_checksums = control_.data_checksum_version != 0;
    }
  }
  if (!v_.system_identifier) have_control_ = false;  // only a verified pg_control is trusted below
  if (v_.system_identifier && manifest_.system_identifier && *manifest_.system_identifier != *v_.system_identifier) {
    sh_.findings.Add(FindingKind::kSysid, "backup_manifest",
                     "System-Identifier " + std::to_string(*manifest_.system_identifier) +
                         " is not the system identifier in global/pg_control, " +
                         std::to_string(*v_.system_identifier));
  }
  // The major version: from pg_control's catalog version (CRC-protected),
  // else PG_VERSION.
  if (have_control_) {
    v_.pg_major = MajorOfControlVersion(control_.pg_control_version);
    if (v_.pg_major == 0) v_.pg_major = MajorOfCatalogVersion(control_.catalog_version);
  }
  if (v_.pg_major == 0) {
    int major = std::atoi(pg_version_.c_str());
    if (major > 0) v_.pg_major = major;
  }
}

// Why pg_control cannot be trusted, for the notes of what that leaves
// unchecked; empty while it can.
std::string BackupVerifier::ControlProblem() const {
  if (control_missing_) return "global/pg_control is missing";
  if (control_status_.code() == StatusCode::kUnsupported)
    return "global/pg_control is of a version vouch does not read";
  if (!control_status_.ok()) return "global/pg_control is unreadable (" + control_status_.message() + ")";
  if (!v_.system_identifier) return "global/pg_control fails its CRC";
  return "";
}

Status BackupVerifier::CheckPlainFiles() {
  walker_.join();
  VOUCH_RETURN_IF_ERROR(walk_status_);
  return VerifyPlainFiles(v_.dir, sh_, disk_, v_.jobs, [this] { return CheckWal(); });
}

Status BackupVerifier::CheckTarFiles() {
  // Pages are checked while streaming; pg_control (sent last) says
  // afterwards whether they count.
  sh_.pages.enabled = options_.page_checksums;
  sh_.pages.skip_from_lsn = backup_start_.value_or(0);
  Status error;
  std::mutex mu;
  tbb::enumerable_thread_specific<IoBuffer> buffers([] { return IoBuffer(kBlock); });
  // Largest first: base.tar usually dominates.
  std::vector<size_t> order(tars_.size());
  std::vector<uint64_t> sizes(tars_.size());
  for (size_t i = 0; i < tars_.size(); ++i) {
    order[i] = i;
    struct stat ts {};
    if (stat((v_.dir + "/" + tars_[i].file).c_str(), &ts) == 0) sizes[i] = static_cast<uint64_t>(ts.st_size);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  RunInOrder(v_.jobs, order.size(), [&](size_t k) {
    Status s = ScanTar(v_.dir, tars_[order[k]], sh_, captures_, buffers.local());
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (error.ok()) error = s;
    }
  });
  VOUCH_RETURN_IF_ERROR(error);
  for (auto& c : captures_.wal) wal_.segments[c.name.base].push_back(std::move(c));
  for (auto& [tli, h] : captures_.histories) wal_.histories.emplace(tli, std::move(h));
  for (const auto& t : tars_) {
    if (t.prefix == "pg_wal/" || t.prefix.empty()) wal_.sources.push_back(t.file);
  }
  return Status::Ok();
}

// Listed but absent. Entries that would sit in a damaged tar are not named
// one by one: the damage finding stands for them.
void BackupVerifier::CheckMissingFiles() {
  if (!sh_.manifest) return;
  std::map<std::string, uint64_t> unreached;  // tar file → count
  for (size_t i = 0; i < manifest_.files.size(); ++i) {
    const auto& f = manifest_.files[i];
    if (sh_.seen[i] || Ignored(f.path, sh_.ignore)) continue;
    if (!plain()) {
      std::string tar_prefix;
      if (f.path.rfind("pg_tblspc/", 0) == 0) {
        size_t slash = f.path.find('/', 10);
        tar_prefix = f.path.substr(0, slash == std::string::npos ? f.path.size() : slash + 1);
      }
      auto t = std::find_if(tars_.begin(), tars_.end(), [&](const TarPlan& p) { return p.prefix == tar_prefix; });
      if (t != tars_.end() && t->damaged) {
        ++unreached[t->file];
        continue;
      }
    }
    sh_.findings.Add(FindingKind::kMissing, f.path, "is present in the manifest but not on disk");
  }
  for (const auto& [file, n] : unreached) {
    sh_.findings.Add(FindingKind::kDamaged, file,
                     std::to_string(n) + " files listed in the manifest were not reached in it");
  }
  if (options_.keep_paths) {
    for (size_t i = 0; i < manifest_.files.size(); ++i) {
      if (sh_.seen[i]) v_.paths.push_back(manifest_.files[i].path);
    }
  }
}

void BackupVerifier::CheckIncremental() {
  v_.incremental.files = sh_.incremental_files;
  v_.incremental.blocks = sh_.incremental_blocks;
  if (v_.incremental.files > 0 && !v_.incremental.incremental) {
    sh_.findings.Add(FindingKind::kIncremental, "backup_label",
                     "the backup holds " + std::to_string(v_.incremental.files) +
                         " INCREMENTAL files, but its backup_label has no INCREMENTAL FROM LSN");
  }
}

void BackupVerifier::CheckPages() {
  if (!options_.page_checksums) return;
  if (!have_control_) {
    v_.unverified.push_back("data page checksums not checked: " + ControlProblem());
    return;
  }
  if (control_.data_checksum_version == 0) {
    v_.unverified.push_back("data page checksums not checked: the cluster has data checksums off (initdb without -k)");
    return;
  }
  v_.pages_checked = sh_.page_tally.checked;
  v_.pages_new = sh_.page_tally.fresh;
  v_.pages_skipped = sh_.page_tally.skipped;
  v_.pages_bad = sh_.page_tally.bad;
  for (auto& [file, t] : sh_.page_files) {
    std::sort(t.first_bad.begin(), t.first_bad.end());
    size_t shown = 0;
    for (const auto& [block, what] : t.first_bad) {
      if (shown++ == kPagesReportedPerFile) break;
      sh_.findings.Add(FindingKind::kPage, file, "block " + std::to_string(block) + ": " + what);
    }
    if (t.bad > kPagesReportedPerFile) {
      sh_.findings.Add(FindingKind::kPage, file,
                       "and " + std::to_string(t.bad - kPagesReportedPerFile) + " more bad blocks");
    }
  }
}

// In a data directory this runs on one of the reading threads, beside the
// files: it touches none of what they share. Its notes are the first of the
// run's.
Status BackupVerifier::CheckWal() {
  if (options_.skip_wal) {
    v_.wal.note = "not checked (skip_wal)";
    return Status::Ok();
  }
  if (v_.manifest_version == 0 && v_.no_manifest.empty()) {
    v_.wal.note = "not checked: no usable manifest to say which WAL the backup needs";
    return Status::Ok();
  }
  if (plain()) {
    VOUCH_RETURN_IF_ERROR(backup_internal::AddWalDirectory(wal_, v_.dir + "/pg_wal", "pg_wal/", /*missing_ok=*/true));
  }
  for (const auto& a : options_.wal_archives) {
    std::string prefix = a;
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    VOUCH_RETURN_IF_ERROR(backup_internal::AddWalDirectory(wal_, prefix, prefix + "/", /*missing_ok=*/false));
  }
  backup_internal::WalCheckInput in;
  in.ranges = manifest_.wal_ranges;
  if (!v_.no_manifest.empty()) in.ranges = {options_.without_manifest->wal};
  in.until_lsn = until_;
  in.jobs = v_.jobs;
  if (have_control_ && IsValidWalSegmentSize(control_.xlog_seg_size)) {
    in.segment_size = control_.xlog_seg_size;
    in.system_identifier = control_.system_identifier;
  } else {
    v_.notes.push_back("WAL segment size taken as 16 MB: " + ControlProblem());
    if (manifest_.system_identifier) in.system_identifier = *manifest_.system_identifier;
  }
  if (v_.pg_major != 0) {
    if (auto magic = WalPageMagicForMajor(v_.pg_major))
      in.magic = *magic;
    else
      v_.notes.push_back("WAL page magic of PostgreSQL " + std::to_string(v_.pg_major) +
                         " unknown; 0xD110 (15) expected");
  }
  return backup_internal::CheckWal(wal_, in, &v_.wal, &wal_findings_, &wal_bytes_);
}

Status BackupVerifier::CheckSidecar() {
  if (options_.checksums.empty()) return Status::Ok();
  auto report = VerifyChecksumFile(options_.checksums, v_.jobs);
  if (!report.ok()) return report.status();
  for (const auto& r : report->results) {
    if (r.outcome == ChecksumResult::kOk) continue;
    std::string detail = std::string(ChecksumOutcomeName(r.outcome)) + " (line " + std::to_string(r.entry.line) + ")";
    if (r.outcome == ChecksumResult::kMismatch) {
      detail +=
          ": " + std::string(HashAlgorithmName(r.entry.algorithm)) + " " + r.actual + ", the file says " + r.entry.hex;
    } else if (!r.error.empty()) {
      detail += ": " + r.error;
    }
    sh_.findings.Add(FindingKind::kSidecar, r.path, detail);
  }
  if (report->results.empty()) {
    sh_.findings.Add(FindingKind::kSidecar, options_.checksums, "no properly formatted checksum lines found");
  }
  if (!report->malformed_lines.empty()) {
    v_.notes.push_back(options_.checksums + ": " + std::to_string(report->malformed_lines.size()) +
                       " improperly formatted lines ignored");
  }
  v_.checksums = std::move(report).value();
  return Status::Ok();
}

BackupVerification BackupVerifier::Finish() {
  if (sh_.read_all) v_.files_listed = plain() ? disk_.size() : sh_.files_found.load();
  v_.files_verified = sh_.files_verified;
  v_.files_checksummed = sh_.files_checksummed;
  std::vector<Finding> findings = sh_.findings.Take();
  for (auto& f : wal_findings_) findings.push_back(std::move(f));
  std::sort(findings.begin(), findings.end(), FindingLess);
  v_.findings = std::move(findings);
  v_.bytes = sh_.bytes + wal_bytes_;
  v_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  v_.finished_at = options_.now
                       ? options_.now()
                       : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return std::move(v_);
}

}  // namespace

Result<BackupVerification> VerifyBackup(const std::string& dir, const VerifyBackupOptions& options) {
  BackupVerifier b(options);
  VOUCH_RETURN_IF_ERROR(b.Start(dir));
  VOUCH_RETURN_IF_ERROR(b.CheckLayout());
  VOUCH_RETURN_IF_ERROR(b.CheckManifest());
  if (b.plain()) {
    VOUCH_RETURN_IF_ERROR(b.CheckControlFile());
    VOUCH_RETURN_IF_ERROR(b.CheckPlainFiles());  // and CheckWal(), beside the files
  } else {
    VOUCH_RETURN_IF_ERROR(b.CheckTarFiles());
    VOUCH_RETURN_IF_ERROR(b.CheckControlFile());
    VOUCH_RETURN_IF_ERROR(b.CheckWal());
  }
  b.CheckMissingFiles();
  b.CheckIncremental();
  b.CheckPages();
  VOUCH_RETURN_IF_ERROR(b.CheckSidecar());
  return b.Finish();
}

}  // namespace vouch
