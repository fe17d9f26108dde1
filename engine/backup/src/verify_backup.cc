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

using backup_internal::kBlock;
using backup_internal::ReadEnd;
using backup_internal::ReadRange;
using backup_internal::SharedReadAhead;
using backup_internal::WalCandidate;
using backup_internal::WalInventory;

constexpr uint64_t kSplit = uint64_t{64} << 20;  // CRC32C files above this are read in parts
constexpr int kPagesReportedPerFile = 5;

std::string Hex16(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04X", v);
  return buf;
}

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

std::optional<HashAlgorithm> EvpFor(ManifestChecksumType t) {
  switch (t) {
    case ManifestChecksumType::kSha224: return HashAlgorithm::kSha224;
    case ManifestChecksumType::kSha256: return HashAlgorithm::kSha256;
    case ManifestChecksumType::kSha384: return HashAlgorithm::kSha384;
    case ManifestChecksumType::kSha512: return HashAlgorithm::kSha512;
    default: return std::nullopt;
  }
}

struct PageSettings {
  bool enabled = false;
  uint32_t relseg_size = kPgRelSegSize;
  uint64_t skip_from_lsn = 0;  // the backup's start LSN
};

// Page results of one stream (a file, a part of one, a tar member).
struct PageTally {
  uint64_t checked = 0, fresh = 0, skipped = 0, bad = 0;
  std::vector<std::pair<uint32_t, std::string>> first_bad;  // (block, what), the first few

  void Merge(PageTally&& o) {
    checked += o.checked;
    fresh += o.fresh;
    skipped += o.skipped;
    bad += o.bad;
    for (auto& b : o.first_bad) first_bad.push_back(std::move(b));
  }
};

// An INCREMENTAL.* file's header, as StreamCheck found it.
struct IncrementalVerdict {
  std::string error;    // "" when valid
  uint64_t blocks = 0;  // blocks the file carries
};

// What one stream of bytes is checked for: the manifest checksum (CRC-32C or
// an EVP hash) and, for relation files, every page. Bytes come in order;
// `offset` is where in the file the first one is (a multiple of 8 KB).
class StreamCheck {
 public:
  StreamCheck(ManifestChecksumType type, bool pages, uint32_t segno, const PageSettings& ps, uint64_t offset)
      : type_(type), pages_(pages), segno_(segno), ps_(ps), offset_(offset) {
    if (auto a = EvpFor(type)) evp_ = std::make_unique<EvpHash>(*a);
  }

  // The stream is an INCREMENTAL.* file of `file_size` bytes, read whole
  // from its start: its header is parsed and checked, and the blocks that
  // follow it are the pages (numbered by the header's list).
  void Incremental(uint64_t file_size) {
    incremental_ = true;
    file_size_ = file_size;
  }

  void Update(const char* p, size_t n) {
    if (type_ == ManifestChecksumType::kCrc32c)
      crc_ = Crc32cExtend(crc_, p, n);
    else if (evp_)
      evp_->Update(p, n);
    if (incremental_ && !header_done_) {
      const size_t took = TakeHeader(p, n);
      p += took;
      n -= took;
      offset_ += took;
      bytes_ += took;
    }
    if (pages_ && n > 0 && (!incremental_ || header_ok_)) Pages(p, n);
    offset_ += n;
    bytes_ += n;
  }

  // Ends the stream: a partial block left over is reported, and an
  // incremental file's header that never completed.
  void Finish() {
    if (incremental_ && !header_done_) ParseHeader();
    if (pages_ && !carry_.empty()) {
      ++tally_.bad;
      tally_.first_bad.emplace_back(BlockAt(offset_ - carry_.size()),
                                    "a partial block of " + std::to_string(carry_.size()) +
                                        " bytes at the end (the size is not a multiple of 8192)");
      carry_.clear();
    }
  }

  uint32_t crc() const { return crc_; }
  uint64_t bytes() const { return bytes_; }
  PageTally& tally() { return tally_; }
  // An incremental file's header: what is wrong with it ("" when valid), and
  // how many blocks it carries.
  IncrementalVerdict incremental_verdict() const { return {incremental_error_, blocks_.size()}; }
  // The digest's bytes as a manifest writes them.
  std::string Digest() {
    if (type_ == ManifestChecksumType::kCrc32c) return CrcBytes(crc_);
    if (!evp_) return "";
    uint8_t out[64];
    size_t n = evp_->Finish(out);
    return std::string(reinterpret_cast<char*>(out), n);
  }
  static std::string CrcBytes(uint32_t crc) {
    std::string b(4, '\0');
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    return b;
  }

 private:
  uint32_t BlockAt(uint64_t offset) const {
    if (incremental_) {
      const uint64_t i = (offset - data_start_) / kPgBlockSize;
      const uint32_t rel = i < blocks_.size() ? blocks_[i] : static_cast<uint32_t>(i);
      return static_cast<uint32_t>(segno_ * ps_.relseg_size + rel);
    }
    return static_cast<uint32_t>(segno_ * ps_.relseg_size + offset / kPgBlockSize);
  }
  // Takes the header's bytes off the front of [p, p+n); parses it once whole.
  size_t TakeHeader(const char* p, size_t n) {
    size_t took = 0;
    while (!header_done_) {
      const uint64_t need = IncrementalHeaderBytesNeeded(header_, ps_.relseg_size, kPgBlockSize);
      if (need == 0) {
        ParseHeader();
        break;
      }
      if (took == n) break;
      const size_t t = static_cast<size_t>(std::min<uint64_t>(n - took, need - header_.size()));
      header_.append(p + took, t);
      took += t;
    }
    return took;
  }
  void ParseHeader() {
    header_done_ = true;
    auto h = ParseIncrementalHeader(header_, file_size_, ps_.relseg_size, kPgBlockSize);
    if (h.ok()) {
      header_ok_ = true;
      blocks_ = std::move(h->blocks);
      data_start_ = h->header_length;
    } else {
      incremental_error_ = h.status().message();
    }
    std::string().swap(header_);
  }
  void Page(const char* page, uint64_t offset) {
    const uint32_t blkno = BlockAt(offset);
    PgPageVerdict v = CheckPgPage(page, blkno, ps_.skip_from_lsn);
    switch (v.kind) {
      case PgPageVerdict::kOk: ++tally_.checked; break;
      case PgPageVerdict::kNew: ++tally_.fresh; break;
      case PgPageVerdict::kNewerThanStart: ++tally_.skipped; break;
      case PgPageVerdict::kBadChecksum:
        ++tally_.checked;
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno,
                                        "checksum " + Hex16(v.found) + " in the page, expected " + Hex16(v.expected));
        }
        break;
      case PgPageVerdict::kBadHeader:
        ++tally_.checked;
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno, "page header invalid (pd_flags, pd_lower, pd_upper or pd_special)");
        }
        break;
      case PgPageVerdict::kNotZero:
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno, "marked new (pd_upper 0) but not all zeros");
        }
        break;
    }
  }
  void Pages(const char* p, size_t n) {
    uint64_t off = offset_;
    if (!carry_.empty()) {
      size_t take = std::min(n, kPgBlockSize - carry_.size());
      carry_.append(p, take);
      p += take;
      n -= take;
      off += take;
      if (carry_.size() < kPgBlockSize) return;
      Page(carry_.data(), off - kPgBlockSize);
      carry_.clear();
    }
    while (n >= kPgBlockSize) {
      Page(p, off);
      p += kPgBlockSize;
      n -= kPgBlockSize;
      off += kPgBlockSize;
    }
    if (n > 0) carry_.assign(p, n);
  }

  ManifestChecksumType type_;
  bool pages_;
  uint32_t segno_;
  PageSettings ps_;
  uint64_t offset_;
  uint64_t bytes_ = 0;
  uint32_t crc_ = 0;
  std::unique_ptr<EvpHash> evp_;
  std::string carry_;
  PageTally tally_;
  // Incremental files.
  bool incremental_ = false, header_done_ = false, header_ok_ = false;
  uint64_t file_size_ = 0, data_start_ = 0;
  std::string header_;  // its bytes until it is whole
  std::vector<uint32_t> blocks_;
  std::string incremental_error_;
};

struct Shared {
  const BackupManifest* manifest = nullptr;  // null without a usable manifest
  std::unordered_map<std::string_view, size_t> index;
  std::unique_ptr<std::atomic<bool>[]> seen;
  std::vector<std::string> ignore;
  PageSettings pages;
  FindingSink findings;
  std::atomic<uint64_t> files_verified{0}, files_checksummed{0}, bytes{0};
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
      out->push_back({r, static_cast<uint64_t>(st.st_size)});
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

struct FileJob {
  std::string relpath;
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
  const std::string path = root + "/" + job.relpath;
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

// `side`, when given, is more work of the run that needs none of the files
// (the WAL check): it is queued after them, where the threads not on the
// critical path (one big SHA-2 file) take it while that file is hashed.
Status VerifyPlainFiles(const std::string& root, Shared& sh, const std::vector<DiskFile>& disk, int jobs,
                        const std::function<Status()>& side) {
  std::vector<FileJob> work;
  for (const auto& f : disk) {
    FileJob j;
    j.relpath = f.relpath;
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
    const RelationFileKind k = ClassifyRelationFile(f.relpath, &j.segno);
    j.incremental = k == RelationFileKind::kIncremental;
    if (sh.pages.enabled) {
      if (k == RelationFileKind::kChecksummed || j.incremental) j.pages = true;
      if (k == RelationFileKind::kBadSegmentNumber) {
        sh.findings.Add(FindingKind::kPage, f.relpath,
                        "invalid segment number in the file name: its pages cannot be checked");
      }
    }
    if (j.listed || j.pages || j.incremental) work.push_back(std::move(j));
  }

  // Parts: a file whose digest is a CRC (or that is only page-checked) is
  // split at kSplit boundaries, so that one big file keeps every thread busy.
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
  std::vector<size_t> order(pieces.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto span = [&](const Piece& p) { return std::min(p.end, work[p.job].size) - p.begin; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return span(pieces[a]) > span(pieces[b]); });

  uint64_t total = 0;
  for (const auto& j : work) total += j.size;
  // The critical pieces' read-aheads (fewer than jobs of them: each is more
  // than 1/jobs of the bytes).
  std::vector<std::unique_ptr<SharedReadAhead>> aheads;
  std::vector<SharedReadAhead*> ahead_of(pieces.size(), nullptr);
  for (size_t i = 0; i < pieces.size() && jobs > 1; ++i) {
    const FileJob& j = work[pieces[i].job];
    const bool ordered_digest = j.listed && j.listed->checksum_type != ManifestChecksumType::kCrc32c &&
                                j.listed->checksum_type != ManifestChecksumType::kNone;
    const bool critical = j.size >= kReadAheadFrom && j.size * static_cast<uint64_t>(jobs) > total;
    if (pieces[i].whole() && ordered_digest && critical) {
      aheads.push_back(std::make_unique<SharedReadAhead>());
      ahead_of[i] = aheads.back().get();
    }
  }
  auto help = [&] {
    for (auto& a : aheads) a->Help();
  };
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
        RunPiece(root, work[p.job], p, buffers.local(), sh.pages, ahead_of[order[k]], help);
      },
      [&] {
        for (auto& a : aheads) a->HelpUntilDone();
      });

  // Join the parts of each file in order.
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
    sh.bytes += bytes;
    if (j.pages) sh.AddPages(j.relpath, std::move(tally));
    if (!j.listed) continue;
    const bool crc = j.listed->checksum_type == ManifestChecksumType::kCrc32c;
    Conclude(sh, *j.listed, j.relpath, crc ? StreamCheck::CrcBytes(crc_value) : digest, bytes);
  }
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

Status ScanTar(const std::string& root, TarPlan& plan, Shared& sh, TarCaptures& cap, IoBuffer& buf) {
  const std::string path = root + "/" + plan.file;
  auto src = OpenDecodedFile(path);
  if (!src.ok()) {
    if (IsDamage(src.status())) {
      plan.damaged = true;
      sh.findings.Add(FindingKind::kDamaged, plan.file, src.status().message());
      return Status::Ok();
    }
    return src.status();
  }
  TarReader tar(**src, plan.file);
  auto damaged = [&](const Status& s) {
    plan.damaged = true;
    sh.findings.Add(FindingKind::kDamaged, plan.file, s.message());
  };
  TarMember m;
  while (true) {
    auto more = tar.Next(&m);
    if (!more.ok()) {
      if (!IsDamage(more.status())) return more.status();
      damaged(more.status());
      return Status::Ok();
    }
    if (!*more) break;
    std::string name = m.name;
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (name.empty() || m.type == '5') continue;
    const std::string rel = plan.prefix + name;
    const std::string where = plan.file + ":" + name;
    if (m.type == '2') continue;  // pg_tblspc/OID links to tablespaces (their own OID.tar)
    if (m.type != '0' && m.type != '\0' && m.type != '7') {
      if (!Ignored(rel, sh.ignore))
        sh.findings.Add(FindingKind::kType, rel, "tar member of type '" + std::string(1, m.type) + "' in " + plan.file);
      continue;
    }

    if (rel.rfind("pg_wal/", 0) == 0) {
      const std::string base = rel.substr(7);
      auto f = ParseWalFileName(base);
      if (!f || base.find('/') != std::string::npos) continue;
      if (f->kind == WalFileName::kSegment || f->kind == WalFileName::kPartial) {
        WalCandidate c{where, "", *f, std::nullopt, Status::Ok()};
        auto scan = ScanWalSegment(tar.Data());
        if (!scan.ok()) {
          if (!IsDamage(scan.status())) return scan.status();
          damaged(scan.status());
          return Status::Ok();
        }
        c.scan = std::move(scan).value();
        std::lock_guard<std::mutex> lock(cap.mu);
        cap.wal.push_back(std::move(c));
      } else if (f->kind == WalFileName::kHistory) {
        auto text = ReadPrefix(tar.Data(), m.size);
        if (!text.ok()) {
          if (!IsDamage(text.status())) return text.status();
          damaged(text.status());
          return Status::Ok();
        }
        std::lock_guard<std::mutex> lock(cap.mu);
        cap.histories.emplace(f->timeline, backup_internal::WalHistoryFile{where, std::move(text).value()});
      }
      continue;
    }
    if (Ignored(rel, sh.ignore)) continue;

    const ManifestFile* listed = nullptr;
    size_t idx = 0;
    if (sh.manifest) {
      listed = sh.Lookup(rel, &idx);
      if (listed == nullptr) {
        sh.findings.Add(FindingKind::kExtra, rel, "is present in " + plan.file + " but not in the manifest");
      } else if (sh.seen[idx].exchange(true)) {
        sh.findings.Add(FindingKind::kExtra, rel, "appears more than once in the backup (again in " + plan.file + ")");
        listed = nullptr;
      } else if (listed->size != m.size) {
        sh.findings.Add(FindingKind::kSize, rel,
                        "has size " + std::to_string(m.size) + " in " + plan.file + " but size " +
                            std::to_string(listed->size) + " in the manifest");
        listed = nullptr;
      } else if (listed->checksum_type == ManifestChecksumType::kNone) {
        ++sh.files_verified;
      }
    }
    bool pages = false;
    uint32_t segno = 0;
    const RelationFileKind k = ClassifyRelationFile(rel, &segno);
    const bool incremental = k == RelationFileKind::kIncremental;
    if (sh.pages.enabled) {
      pages = k == RelationFileKind::kChecksummed || incremental;
      if (k == RelationFileKind::kBadSegmentNumber) {
        sh.findings.Add(FindingKind::kPage, rel,
                        "invalid segment number in the file name: its pages cannot be checked");
      }
    }
    const bool capture = rel == "global/pg_control" || rel == "PG_VERSION" || rel == "backup_label";
    const bool verify = listed && listed->checksum_type != ManifestChecksumType::kNone;
    if (!verify && !pages && !capture && !incremental) continue;  // TarReader skips the data

    StreamCheck sc(verify ? listed->checksum_type : ManifestChecksumType::kNone, pages, segno, sh.pages, 0);
    if (incremental) sc.Incremental(m.size);
    std::string captured;
    while (true) {
      auto got = ReadUpTo(tar.Data(), buf.data(), buf.size());
      if (!got.ok()) {
        if (!IsDamage(got.status())) return got.status();
        damaged(got.status());
        return Status::Ok();
      }
      if (*got == 0) break;
      sc.Update(buf.data(), *got);
      if (capture && captured.size() < 65536) captured.append(buf.data(), std::min<size_t>(*got, 65536));
    }
    sc.Finish();
    sh.bytes += sc.bytes();
    if (incremental) sh.AddIncremental(rel, sc.incremental_verdict());
    if (pages) sh.AddPages(rel, std::move(sc.tally()));
    if (capture) {
      std::lock_guard<std::mutex> lock(cap.mu);
      (rel == "global/pg_control" ? cap.pg_control
       : rel == "PG_VERSION"      ? cap.pg_version
                                  : cap.backup_label) = std::move(captured);
    }
    if (verify) Conclude(sh, *listed, rel, sc.Digest(), sc.bytes());
  }
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

// "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)"
std::optional<uint64_t> BackupLabelStart(const std::string& label) {
  const std::string key = "START WAL LOCATION: ";
  size_t p = label.find(key);
  if (p == std::string::npos) return std::nullopt;
  p += key.size();
  size_t e = label.find_first_of(" \n", p);
  return ParseLsn(label.substr(p, e == std::string::npos ? std::string::npos : e - p));
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

}  // namespace

Result<BackupVerification> VerifyBackup(const std::string& dir_in, const VerifyBackupOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.jobs < 0) return InvalidArgument("jobs must be at least 1 (0 = all cores)");
  std::optional<uint64_t> until;
  if (options.until_lsn) {
    until = ParseLsn(*options.until_lsn);
    if (!until) return InvalidArgument("not an LSN: \"" + *options.until_lsn + "\" (expected the form 16/B374D848)");
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
  std::jthread warm_openssl([] { EvpHash(HashAlgorithm::kSha256).FinishHex(); });

  BackupVerification v;
  v.dir = dir;
  v.jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
  v.page_checks_requested = options.page_checksums;
  // As many workers as asked for, even above the core count (I/O waits).
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(v.jobs));
  Shared sh;
  sh.ignore = {"backup_manifest", "pg_wal", "postgresql.auto.conf", "recovery.signal", "standby.signal"};
  for (const auto& i : options.ignore) sh.ignore.push_back(i);
  // A checksum sidecar kept inside the backup directory is not part of it.
  if (!options.checksums.empty()) {
    const std::string rd = RealPath(dir), rs = RealPath(options.checksums);
    if (!rd.empty() && rs.size() > rd.size() + 1 && rs.compare(0, rd.size(), rd) == 0 && rs[rd.size()] == '/') {
      sh.ignore.push_back(rs.substr(rd.size() + 1));
    }
  }

  // The layout: tar files, or a data directory.
  std::vector<TarPlan> tars;
  std::vector<std::string> others;
  {
    std::vector<std::string> names;
    if (int err = ListDirectoryNames(dir, &names); err != 0) {
      return IoError("cannot open directory " + dir + ": " + std::strerror(err));
    }
    bool has_base_tar = false;
    for (const auto& n : names) {
      auto stem = TarStem(n);
      if (stem && *stem == "base") has_base_tar = true;
    }
    for (const auto& n : names) {
      auto stem = TarStem(n);
      if (has_base_tar && stem) {
        TarPlan p;
        p.file = n;
        p.prefix = *stem == "base" ? "" : *stem == "pg_wal" ? "pg_wal/" : "pg_tblspc/" + *stem + "/";
        tars.push_back(std::move(p));
      } else {
        others.push_back(n);
      }
    }
    const bool looks_plain = std::find(names.begin(), names.end(), "PG_VERSION") != names.end() ||
                             std::find(names.begin(), names.end(), "global") != names.end();
    const bool has_manifest = std::find(names.begin(), names.end(), "backup_manifest") != names.end();
    if (!has_base_tar && !looks_plain && !has_manifest) {
      return Unsupported(dir + " is not a base backup: no backup_manifest, base.tar or PG_VERSION in it");
    }
    v.format = has_base_tar ? "tar" : "plain";
  }
  for (const auto& t : tars) v.archives.push_back(t.file);

  // A data directory is walked while the manifest is read and parsed.
  std::vector<DiskFile> disk;
  Status walk_status;
  std::jthread walker;
  if (v.format == "plain") walker = std::jthread([&] { walk_status = Walk(dir, sh, &disk); });

  // The manifest.
  BackupManifest manifest;
  {
    bool missing = false;
    auto text = ReadWholeFile(dir + "/backup_manifest", SIZE_MAX, &missing);
    if (!text.ok()) return text.status();
    if (missing) {
      sh.findings.Add(FindingKind::kManifest, "backup_manifest", "is missing: the backup cannot be checked against it");
    } else {
      auto parsed = ParseBackupManifest(*text);
      if (!parsed.ok()) {
        sh.findings.Add(FindingKind::kManifest, "backup_manifest", parsed.status().message());
      } else {
        manifest = std::move(parsed).value();
        v.manifest_version = manifest.version;
        v.manifest_checksum_ok = manifest.ChecksumMatches();
        if (!v.manifest_checksum_ok) {
          sh.findings.Add(FindingKind::kManifest, "backup_manifest",
                          "manifest checksum mismatch: the manifest says " + manifest.manifest_checksum +
                              ", its contents hash to " + manifest.computed_checksum);
        }
        v.files_listed = manifest.files.size();
        std::set<std::string> algos;
        for (const auto& f : manifest.files) {
          if (f.checksum_type != ManifestChecksumType::kNone) algos.insert(ManifestChecksumTypeName(f.checksum_type));
        }
        v.checksum_algorithms.assign(algos.begin(), algos.end());
        sh.manifest = &manifest;
        sh.index.reserve(manifest.files.size());
        for (size_t i = 0; i < manifest.files.size(); ++i) sh.index.emplace(manifest.files[i].path, i);
        sh.seen = std::make_unique<std::atomic<bool>[]>(manifest.files.size());
      }
    }
  }
  if (sh.manifest) {
    for (const auto& f : manifest.files) v.files_exempt += Ignored(f.path, sh.ignore) ? 1 : 0;
  }
  std::optional<uint64_t> backup_start;
  if (v.manifest_version != 0 && !manifest.wal_ranges.empty()) {
    backup_start = manifest.wal_ranges.front().start_lsn;
    for (const auto& r : manifest.wal_ranges) backup_start = std::min(*backup_start, r.start_lsn);
  }

  ControlFile control;  // meaningful when have_control
  bool have_control = false;
  std::string control_bytes, pg_version, backup_label;
  bool control_missing = false;
  WalInventory wal;

  // pg_control, parsed once: have_control when it parses (what the page
  // checks go by while the files are read), its CRC judged in
  // conclude_control.
  Status control_status;
  // Why pg_control cannot be trusted, for the notes of what that leaves
  // unchecked; empty while it can.
  auto control_problem = [&]() -> std::string {
    if (control_missing) return "global/pg_control is missing";
    if (control_status.code() == StatusCode::kUnsupported)
      return "global/pg_control is of a version vouch does not read";
    if (!control_status.ok()) return "global/pg_control is unreadable (" + control_status.message() + ")";
    if (!v.system_identifier) return "global/pg_control fails its CRC";
    return "";
  };
  auto load_control = [&] {
    if (control_missing) return;
    auto c = ParseControlFile(control_bytes);
    if (!c.ok()) {
      control_status = c.status();
      return;
    }
    control = *c;
    have_control = true;
  };

  // pg_control's verdict and the major version. A data directory's come
  // before its files are read, so that the WAL check can run beside them.
  auto conclude_control = [&] {
    if (!control_missing) {
      if (!control_status.ok()) {
        if (control_status.code() == StatusCode::kUnsupported) {
          v.unverified.push_back("global/pg_control: " + control_status.message() +
                                 ": its CRC and the system identifier were not checked");
        } else {
          sh.findings.Add(FindingKind::kControl, "global/pg_control", control_status.message());
        }
      } else if (!control.CrcOk()) {
        sh.findings.Add(FindingKind::kControl, "global/pg_control",
                        "CRC " + HexEncode(StreamCheck::CrcBytes(control.crc_stored)) +
                            " in the file, its contents give " +
                            HexEncode(StreamCheck::CrcBytes(control.crc_computed)));
      } else {
        v.system_identifier = control.system_identifier;
        v.data_checksums = control.data_checksum_version != 0;
      }
    }
    if (!v.system_identifier) have_control = false;  // only a verified pg_control is trusted below
    if (v.system_identifier && manifest.system_identifier && *manifest.system_identifier != *v.system_identifier) {
      sh.findings.Add(FindingKind::kSysid, "backup_manifest",
                      "System-Identifier " + std::to_string(*manifest.system_identifier) +
                          " is not the system identifier in global/pg_control, " +
                          std::to_string(*v.system_identifier));
    }
    // The major version: from pg_control's catalog version (CRC-protected),
    // else PG_VERSION.
    if (have_control) {
      v.pg_major = MajorOfControlVersion(control.pg_control_version);
      if (v.pg_major == 0) v.pg_major = MajorOfCatalogVersion(control.catalog_version);
    }
    if (v.pg_major == 0) {
      int major = std::atoi(pg_version.c_str());
      if (major > 0) v.pg_major = major;
    }
  };

  // The WAL the backup needs. Its notes are kept apart, to follow the page
  // notes in the report whichever runs first.
  uint64_t wal_bytes = 0;
  std::vector<Finding> wal_findings;
  std::vector<std::string> wal_notes;
  auto check_wal = [&]() -> Status {
    if (options.skip_wal) {
      v.wal.note = "not checked (skip_wal)";
      return Status::Ok();
    }
    if (v.manifest_version == 0) {
      v.wal.note = "not checked: no usable manifest to say which WAL the backup needs";
      return Status::Ok();
    }
    if (v.format == "plain") {
      VOUCH_RETURN_IF_ERROR(backup_internal::AddWalDirectory(wal, dir + "/pg_wal", "pg_wal/", /*missing_ok=*/true));
    }
    for (const auto& a : options.wal_archives) {
      std::string prefix = a;
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      VOUCH_RETURN_IF_ERROR(backup_internal::AddWalDirectory(wal, prefix, prefix + "/", /*missing_ok=*/false));
    }
    backup_internal::WalCheckInput in;
    in.ranges = manifest.wal_ranges;
    in.until_lsn = until;
    in.jobs = v.jobs;
    if (have_control && IsValidWalSegmentSize(control.xlog_seg_size)) {
      in.segment_size = control.xlog_seg_size;
      in.system_identifier = control.system_identifier;
    } else {
      wal_notes.push_back("WAL segment size taken as 16 MB: " + control_problem());
      if (manifest.system_identifier) in.system_identifier = *manifest.system_identifier;
    }
    if (v.pg_major != 0) {
      if (auto magic = WalPageMagicForMajor(v.pg_major))
        in.magic = *magic;
      else
        wal_notes.push_back("WAL page magic of PostgreSQL " + std::to_string(v.pg_major) +
                            " unknown; 0xD110 (15) expected");
    }
    return backup_internal::CheckWal(wal, in, &v.wal, &wal_findings, &wal_bytes);
  };

  if (v.format == "plain") {
    auto cb = ReadWholeFile(dir + "/global/pg_control", 65536, &control_missing);
    if (!cb.ok()) return cb.status();
    control_bytes = std::move(cb).value();
    bool missing = false;
    auto pv = ReadWholeFile(dir + "/PG_VERSION", 64, &missing);
    if (pv.ok()) pg_version = *pv;
    auto bl = ReadWholeFile(dir + "/backup_label", 65536, &missing);
    if (bl.ok()) backup_label = *bl;
    load_control();
    if (options.page_checksums) {
      sh.pages.enabled = have_control && control.data_checksum_version != 0;
      if (have_control && control.relseg_size != 0) sh.pages.relseg_size = control.relseg_size;
      if (!backup_start) backup_start = BackupLabelStart(backup_label);
      sh.pages.skip_from_lsn = backup_start.value_or(0);
    }
    walker.join();
    VOUCH_RETURN_IF_ERROR(walk_status);
    conclude_control();
    VOUCH_RETURN_IF_ERROR(VerifyPlainFiles(dir, sh, disk, v.jobs, check_wal));
  } else {
    // Pages are checked while streaming; pg_control (sent last) says
    // afterwards whether they count.
    sh.pages.enabled = options.page_checksums;
    sh.pages.skip_from_lsn = backup_start.value_or(0);
    for (const auto& n : others) {
      if (n == "backup_manifest" || Ignored(n, sh.ignore)) continue;
      sh.findings.Add(FindingKind::kExtra, n,
                      "is in the directory of a tar-format backup but is none of its tar files");
    }
    TarCaptures cap;
    Status error;
    std::mutex mu;
    tbb::enumerable_thread_specific<IoBuffer> buffers([] { return IoBuffer(kBlock); });
    // Largest first: base.tar usually dominates.
    std::vector<size_t> order(tars.size());
    std::vector<uint64_t> sizes(tars.size());
    for (size_t i = 0; i < tars.size(); ++i) {
      order[i] = i;
      struct stat ts {};
      if (stat((dir + "/" + tars[i].file).c_str(), &ts) == 0) sizes[i] = static_cast<uint64_t>(ts.st_size);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
    RunInOrder(v.jobs, order.size(), [&](size_t k) {
      Status s = ScanTar(dir, tars[order[k]], sh, cap, buffers.local());
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = s;
      }
    });
    VOUCH_RETURN_IF_ERROR(error);
    control_bytes = std::move(cap.pg_control);
    control_missing = control_bytes.empty();
    pg_version = std::move(cap.pg_version);
    backup_label = std::move(cap.backup_label);
    load_control();
    if (options.page_checksums && !(have_control && control.data_checksum_version != 0)) {
      std::lock_guard<std::mutex> lock(sh.mu);
      sh.page_tally = {};
      sh.page_files.clear();
      sh.pages.enabled = false;
    }
    for (auto& c : cap.wal) wal.segments[c.name.base].push_back(std::move(c));
    for (auto& [tli, h] : cap.histories) wal.histories.emplace(tli, std::move(h));
    for (const auto& t : tars) {
      if (t.prefix == "pg_wal/" || t.prefix.empty()) wal.sources.push_back(t.file);
    }
    conclude_control();
    VOUCH_RETURN_IF_ERROR(check_wal());
  }

  // Listed but absent. Entries that would sit in a damaged tar are not
  // named one by one: the damage finding stands for them.
  if (sh.manifest) {
    std::map<std::string, uint64_t> unreached;  // tar file → count
    for (size_t i = 0; i < manifest.files.size(); ++i) {
      const auto& f = manifest.files[i];
      if (sh.seen[i] || Ignored(f.path, sh.ignore)) continue;
      if (v.format == "tar") {
        std::string tar_prefix;
        if (f.path.rfind("pg_tblspc/", 0) == 0) {
          size_t slash = f.path.find('/', 10);
          tar_prefix = f.path.substr(0, slash == std::string::npos ? f.path.size() : slash + 1);
        }
        auto t = std::find_if(tars.begin(), tars.end(), [&](const TarPlan& p) { return p.prefix == tar_prefix; });
        if (t != tars.end() && t->damaged) {
          ++unreached[t->file];
          continue;
        }
      }
      sh.findings.Add(FindingKind::kMissing, f.path, "is present in the manifest but not on disk");
    }
    for (const auto& [file, n] : unreached) {
      sh.findings.Add(FindingKind::kDamaged, file,
                      std::to_string(n) + " files listed in the manifest were not reached in it");
    }
  }

  if (options.keep_paths && sh.manifest) {
    for (size_t i = 0; i < manifest.files.size(); ++i) {
      if (sh.seen[i]) v.paths.push_back(manifest.files[i].path);
    }
  }

  // backup_label: where the backup starts and, for an incremental one, what
  // it follows.
  if (!backup_label.empty()) {
    auto label = ParseBackupLabel(backup_label);
    if (!label.ok()) {
      sh.findings.Add(FindingKind::kLabel, "backup_label", label.status().message());
    } else {
      v.start_lsn = label->start_lsn;
      v.start_tli = label->start_tli;
      if (label->incremental_from_lsn) {
        v.incremental.incremental = true;
        v.incremental.from_lsn = *label->incremental_from_lsn;
        v.incremental.from_tli = *label->incremental_from_tli;
      }
    }
  }
  v.incremental.files = sh.incremental_files;
  v.incremental.blocks = sh.incremental_blocks;
  if (v.incremental.files > 0 && !v.incremental.incremental) {
    sh.findings.Add(FindingKind::kIncremental, "backup_label",
                    "the backup holds " + std::to_string(v.incremental.files) +
                        " INCREMENTAL files, but its backup_label has no INCREMENTAL FROM LSN");
  }

  // Pages.
  if (options.page_checksums) {
    if (!have_control) {
      v.unverified.push_back("data page checksums not checked: " + control_problem());
    } else if (control.data_checksum_version == 0) {
      v.unverified.push_back("data page checksums not checked: the cluster has data checksums off (initdb without -k)");
    } else {
      v.pages_checked = sh.page_tally.checked;
      v.pages_new = sh.page_tally.fresh;
      v.pages_skipped = sh.page_tally.skipped;
      v.pages_bad = sh.page_tally.bad;
      for (auto& [file, t] : sh.page_files) {
        std::sort(t.first_bad.begin(), t.first_bad.end());
        size_t shown = 0;
        for (const auto& [block, what] : t.first_bad) {
          if (shown++ == kPagesReportedPerFile) break;
          sh.findings.Add(FindingKind::kPage, file, "block " + std::to_string(block) + ": " + what);
        }
        if (t.bad > kPagesReportedPerFile) {
          sh.findings.Add(FindingKind::kPage, file,
                          "and " + std::to_string(t.bad - kPagesReportedPerFile) + " more bad blocks");
        }
      }
    }
  }

  v.files_verified = sh.files_verified;
  v.files_checksummed = sh.files_checksummed;
  for (auto& n : wal_notes) v.notes.push_back(std::move(n));
  sh.bytes += wal_bytes;

  // The sidecar.
  std::vector<Finding> findings = sh.findings.Take();
  for (auto& f : wal_findings) findings.push_back(std::move(f));
  if (!options.checksums.empty()) {
    auto report = VerifyChecksumFile(options.checksums, v.jobs);
    if (!report.ok()) return report.status();
    for (const auto& r : report->results) {
      if (r.outcome == ChecksumResult::kOk) continue;
      std::string detail = std::string(ChecksumOutcomeName(r.outcome)) + " (line " + std::to_string(r.entry.line) + ")";
      if (r.outcome == ChecksumResult::kMismatch) {
        detail += ": " + std::string(HashAlgorithmName(r.entry.algorithm)) + " " + r.actual + ", the file says " +
                  r.entry.hex;
      } else if (!r.error.empty()) {
        detail += ": " + r.error;
      }
      findings.push_back({FindingKind::kSidecar, r.path, detail});
    }
    if (report->results.empty()) {
      findings.push_back({FindingKind::kSidecar, options.checksums, "no properly formatted checksum lines found"});
    }
    if (!report->malformed_lines.empty()) {
      v.notes.push_back(options.checksums + ": " + std::to_string(report->malformed_lines.size()) +
                        " improperly formatted lines ignored");
    }
    v.checksums = std::move(report).value();
  }
  std::sort(findings.begin(), findings.end(), FindingLess);
  v.findings = std::move(findings);
  v.bytes = sh.bytes;
  v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  v.finished_at = options.now
                      ? options.now()
                      : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return v;
}

}  // namespace vouch
