#include "vouch/backup/pgbackrest.h"

#include <sys/stat.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "backup_wal.h"
#include "dir_names.h"
#include "stream_check.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/pgbackrest.h"
#include "vouch/readers/random_access_file.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

using backup_internal::PageSettings;
using backup_internal::PageTally;
using backup_internal::StreamCheck;
using backup_internal::WalCandidate;
using backup_internal::WalInventory;

Result<std::string> ReadRepoFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return InvalidArgument(path + ": no such file");
    return IoError(path + ": cannot read");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An info file or manifest, decrypted with `pass` when the repository is
// encrypted. Without a passphrase that is Unsupported (exit 3, said so); a
// passphrase that does not open it is an IoError (exit 3).
Result<std::string> ReadSealed(const std::string& path, const std::string& pass) {
  auto raw = ReadRepoFile(path);
  if (!raw.ok() || !PgbrEncrypted(*raw)) return raw;
  if (pass.empty()) {
    return Unsupported(path +
                       ": encrypted (repo-cipher-type): give the repository's passphrase with "
                       "--cipher-pass-file");
  }
  return PgbrDecrypt(*raw, pass, path);
}

// Bytes [begin, end) of a repository file, hashed (SHA-1, the manifest's
// "rck") as they are read when `sha1` is given.
class RepoRange final : public ByteSource {
 public:
  RepoRange(const RandomAccessFile& file, uint64_t begin, uint64_t end, EvpHash* sha1)
      : file_(file), pos_(begin), end_(end), sha1_(sha1) {}
  Result<size_t> Read(char* dst, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    if (n == 0) return size_t{0};
    auto got = file_.ReadAt(pos_, dst, n);
    if (!got.ok()) return got.status();
    if (*got == 0) return Truncated(file_.name() + ": ends at byte " + std::to_string(pos_) + ", before its data");
    if (sha1_ != nullptr) sha1_->Update(dst, *got);
    pos_ += *got;
    read_ += *got;
    return *got;
  }
  std::string Describe() const override { return file_.name(); }
  uint64_t RawOffset() const override { return pos_; }
  uint64_t read() const { return read_; }

 private:
  const RandomAccessFile& file_;
  uint64_t pos_, end_;
  uint64_t read_ = 0;
  EvpHash* sha1_;
};

Compression CompressionOfSuffix(const std::string& suffix) {
  if (suffix == ".gz") return Compression::kGzip;
  if (suffix == ".lz4") return Compression::kLz4;
  if (suffix == ".zst") return Compression::kZstd;
  if (suffix == ".bz2") return Compression::kBzip2;
  return Compression::kNone;
}

class Verifier {
 public:
  Verifier(const PgbackrestTarget& t, const VerifyBackupOptions& o) : t_(t), o_(o) {}

  // backup.info, the set, its manifest and those of the sets it refers
  // to. A manifest that cannot be used is a finding (*usable false).
  Status Load(bool* usable) {
    *usable = false;
    if (o_.jobs < 0) return InvalidArgument("jobs must be at least 1 (0 = all cores)");
    if (!o_.checksums.empty()) return InvalidArgument("--checksums is for a pg_basebackup directory");
    backup_dir_ = t_.repo + "/backup/" + t_.stanza;
    auto info_text = ReadSealed(backup_dir_ + "/backup.info", t_.cipher_pass);
    if (!info_text.ok() && info_text.status().code() != StatusCode::kInvalidArgument) return info_text.status();
    if (!info_text.ok()) {
      return InvalidArgument("pgBackRest repository " + t_.repo + ", stanza " + t_.stanza + ": " +
                             info_text.status().message());
    }
    auto info = ParsePgbrBackupInfo(*info_text, backup_dir_ + "/backup.info");
    if (!info.ok()) return info.status();
    info_ = std::move(info).value();
    if (info_.sets.empty()) {
      empty_stanza_ = true;
      return InvalidArgument(backup_dir_ + "/backup.info: the stanza has no backup set");
    }
    const PgbrSet* set = &info_.sets.back();
    if (!t_.set.empty()) {
      set = nullptr;
      std::string labels;
      for (const auto& s : info_.sets) {
        if (s.label == t_.set) set = &s;
        labels += (labels.empty() ? "" : ", ") + s.label;
      }
      if (set == nullptr) return InvalidArgument("--set " + t_.set + ": not in backup.info (its sets: " + labels + ")");
    }
    set_ = set;
    v_.dir = backup_dir_ + "/" + set->label;
    v_.format = "pgbackrest";
    const std::string manifest_path = v_.dir + "/backup.manifest";
    manifest_pass_ = info_.cipher_pass;
    auto text = ReadSealed(manifest_path, manifest_pass_);
    if (!text.ok() && text.status().code() != StatusCode::kInvalidArgument) return text.status();
    if (!text.ok()) {
      v_.findings.push_back({FindingKind::kManifest, "backup.manifest", text.status().message()});
      return Status::Ok();
    }
    auto m = ParsePgbrManifest(*text, manifest_path);
    if (!m.ok()) {
      if (m.status().code() != StatusCode::kCorrupt) return m.status();
      v_.findings.push_back({FindingKind::kManifest, "backup.manifest", m.status().message()});
      return Status::Ok();
    }
    m_ = std::move(m).value();
    v_.manifest_version = 1;
    v_.manifest_checksum_ok = true;
    v_.checksum_algorithms = {"SHA1"};
    v_.system_identifier = m_.db.system_id;
    v_.pg_major = std::atoi(m_.db.version.c_str());
    if (const PgbrDb* db = info_.Db(m_.db.id); db == nullptr || db->system_id != m_.db.system_id) {
      v_.findings.push_back({FindingKind::kSysid, "backup.manifest",
                             "the set's cluster (db-id " + std::to_string(m_.db.id) + ", system identifier " +
                                 std::to_string(m_.db.system_id) + ") is not in backup.info's history"});
    }
    if (m_.label != set->label) {
      v_.findings.push_back({FindingKind::kManifest, "backup.manifest",
                             "backup-label " + m_.label + " in the manifest of set " + set->label});
    }
    auto start = ParseLsn(m_.lsn_start);
    if (!start) return Corrupt(manifest_path + ": backup-lsn-start \"" + m_.lsn_start + "\" is not an LSN");
    v_.start_lsn = *start;
    v_.files_listed = m_.files.size();
    // A file stored by an earlier set has that set's compression.
    suffix_[m_.label] = PgbrCompressSuffix(m_.compress_type);
    pass_[m_.label] = m_.cipher_pass;
    for (const auto& f : m_.files) {
      if (f.reference.empty() || suffix_.count(f.reference)) continue;
      const std::string path = backup_dir_ + "/" + f.reference + "/backup.manifest";
      auto ref_text = ReadSealed(path, manifest_pass_);
      auto ref = ref_text.ok() ? ParsePgbrManifest(*ref_text, path) : Result<PgbrManifest>(ref_text.status());
      if (!ref.ok()) {
        v_.findings.push_back(
            {FindingKind::kManifest, f.reference + "/backup.manifest",
             "the manifest of set " + f.reference + ", which holds files of this set: " + ref.status().message()});
        suffix_[f.reference] = PgbrCompressSuffix(m_.compress_type);
        pass_[f.reference] = m_.cipher_pass;
        continue;
      }
      suffix_[f.reference] = PgbrCompressSuffix(ref->compress_type);
      pass_[f.reference] = ref->cipher_pass;
    }
    *usable = true;
    return Status::Ok();
  }

  Result<BackupVerification> Run() {
    const auto t0 = std::chrono::steady_clock::now();
    bool usable = false;
    VOUCH_RETURN_IF_ERROR(Load(&usable));
    if (!usable) return Finish(t0);
    v_.page_checks_requested = o_.page_checksums;
    ReadControlFile();
    pages_.enabled = o_.page_checksums && control_ && control_->data_checksum_version != 0;
    if (o_.page_checksums && control_ && control_->data_checksum_version == 0) {
      v_.unverified.push_back(
          "data page checksums not checked: the cluster has data checksums off (initdb without -k)");
    }
    pages_.skip_from_lsn = *v_.start_lsn;
    const int jobs = o_.jobs > 0 ? o_.jobs : tbb::info::default_concurrency();
    v_.jobs = jobs;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(jobs));
    tbb::task_arena arena(jobs);
    if (o_.progress != nullptr) {
      o_.progress->Start();
      uint64_t total = 0;
      for (const auto& f : m_.files) total += f.size;
      o_.progress->extent_total = total;
      o_.progress->tables_total = m_.files.size();
    }
    // Largest first, one file a task: a large file started last would
    // leave the other threads idle at the end.
    std::vector<size_t> order(m_.files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return m_.files[a].size > m_.files[b].size; });
    arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<size_t>(0, order.size(), 1),
          [&](const tbb::blocked_range<size_t>& r) {
            for (size_t i = r.begin(); i != r.end(); ++i) CheckFile(m_.files[order[i]]);
          },
          tbb::simple_partitioner());
    });
    if (!o_.skip_wal) VOUCH_RETURN_IF_ERROR(CheckWal());
    return Finish(t0);
  }

  Result<PgbackrestSetPresence> Inspect() {
    constexpr size_t kNamed = 5;
    bool usable = false;
    PgbackrestSetPresence p;
    if (Status st = Load(&usable); !st.ok()) {
      if (!empty_stanza_) return st;
      return p;  // no set: set.label empty
    }
    p.dir = v_.dir;
    p.set = *set_;
    for (size_t i = 1; i < info_.sets.size(); ++i) {
      if (&info_.sets[i] == set_) p.previous = info_.sets[i - 1];
    }
    if (!usable) {
      p.manifest_problem = v_.findings.empty() ? "not usable" : v_.findings.front().detail;
      return p;
    }
    p.files_listed = m_.files.size();
    for (const auto& f : m_.files) {
      if (f.size == 0 && !f.bundle_id && !f.repo_size && f.checksum.empty()) {
        ++p.files_present;  // restored empty, nothing stored
        continue;
      }
      const Place place = PlaceOf(f);
      struct stat st {};
      std::string wrong;
      if (::stat(place.path.c_str(), &st) != 0) {
        wrong = "not in the repository: " + place.path;
      } else if (const uint64_t size = static_cast<uint64_t>(st.st_size); f.bundle_id) {
        if (place.length && place.begin + *place.length > size) {
          wrong = place.path + " ends at byte " + std::to_string(size) + ", before the file's end";
        }
      } else if (place.length && *place.length != size) {
        wrong = place.path + ": " + std::to_string(size) + " bytes, the manifest's repo-size is " +
                std::to_string(*place.length);
      }
      if (wrong.empty()) {
        ++p.files_present;
      } else if (p.files_missing.size() < kNamed) {
        p.files_missing.push_back(f.path + ": " + wrong);
      }
    }
    WalInventory inv;
    std::string pass;
    bool found = false;
    VOUCH_RETURN_IF_ERROR(ListArchive(inv, &pass, &found));
    ReadControlFile();
    const uint32_t segsz =
        control_ && IsValidWalSegmentSize(control_->xlog_seg_size) ? control_->xlog_seg_size : 16u << 20;
    const auto first = ParseWalFileName(m_.archive_start);
    const auto last = ParseWalFileName(m_.archive_stop);
    uint64_t from = 1, to = 0;  // empty unless both parse
    if (first && last) {
      from = WalSegmentNumber(*first, segsz).value_or(1);
      to = WalSegmentNumber(*last, segsz).value_or(0);
    }
    if (to < from) {
      return Corrupt(v_.dir + "/backup.manifest: backup-archive-start/-stop " + m_.archive_start + " … " +
                     m_.archive_stop + " is not a range of segments");
    }
    p.wal_first = m_.archive_start;
    p.wal_last = m_.archive_stop;
    for (uint64_t segno = from; segno <= to; ++segno) {
      const std::string name = WalSegmentFileName(first->timeline, segno, segsz);
      ++p.wal_needed;
      if (inv.segments.count(name)) {
        ++p.wal_present;
      } else if (p.wal_missing.size() < kNamed) {
        p.wal_missing.push_back(name);
      }
    }
    return p;
  }

  // The archive's segments from the set's first on (every timeline) and
  // its history files, written plain into `dest`.
  Result<uint64_t> ExportWal(const std::string& dest) {
    bool usable = false;
    VOUCH_RETURN_IF_ERROR(Load(&usable));
    if (!usable) return Corrupt(v_.dir + "/backup.manifest: " + v_.findings.front().detail);
    WalInventory inv;
    std::string pass;
    bool found = false;
    VOUCH_RETURN_IF_ERROR(ListArchive(inv, &pass, &found));
    if (!found) return InvalidArgument(v_.findings.front().subject + ": " + v_.findings.front().detail);
    uint64_t written = 0;
    auto write = [&](ByteSource& src, const std::string& to) -> Status {
      std::ofstream out(to, std::ios::binary | std::ios::trunc);
      if (!out) return IoError(to + ": cannot write it");
      std::string buf(size_t{1} << 20, '\0');
      for (;;) {
        auto n = ReadUpTo(src, buf.data(), buf.size());
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        out.write(buf.data(), static_cast<std::streamsize>(*n));
      }
      out.close();
      return out ? Status::Ok() : IoError(to + ": cannot write it (disk full?)");
    };
    for (const auto& [base, copies] : inv.segments) {
      if (base.substr(8) < m_.archive_start.substr(8) || copies.empty()) continue;
      const WalCandidate& c = copies.front();
      auto file = OpenFileSource(c.path);
      if (!file.ok()) return file.status();
      std::unique_ptr<ByteSource> src = std::move(file).value();
      if (!pass.empty()) src = MakePgbrDecipher(std::move(src), pass, c.path);
      src = MakeDecoder(CompressionOfSuffix(c.name.compression), std::move(src), c.path);
      VOUCH_RETURN_IF_ERROR(write(*src, dest + "/" + base));
      ++written;
    }
    for (const auto& [tli, h] : inv.histories) {
      auto src = MakeMemorySource(h.text, h.display);
      VOUCH_RETURN_IF_ERROR(write(*src, dest + "/" + TimelineHistoryFileName(tli)));
    }
    return written;
  }

 private:
  BackupVerification Finish(std::chrono::steady_clock::time_point t0) {
    v_.bytes = bytes_;
    v_.pages_checked = tally_.checked;
    v_.pages_new = tally_.fresh;
    v_.pages_skipped = tally_.skipped;
    v_.pages_bad = tally_.bad;
    std::sort(v_.findings.begin(), v_.findings.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.kind, a.subject, a.detail) < std::tie(b.kind, b.subject, b.detail);
    });
    v_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    v_.finished_at =
        o_.now ? o_.now() : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return std::move(v_);
  }

  // The set's global/pg_control, decompressed from the repository: the
  // WAL segment size and whether the cluster has data checksums. Damage to
  // it is the file check's finding; here it only leaves those unknown.
  void ReadControlFile() {
    for (const auto& f : m_.files) {
      if (f.path != "pg_data/global/pg_control") continue;
      const Place place = PlaceOf(f);
      auto file = OpenRandomAccessFile(place.path);
      if (!file.ok()) break;
      const uint64_t end = place.length ? place.begin + *place.length : (*file)->size();
      auto src =
          Content(place, std::make_unique<RepoRange>(**file, place.begin, std::min(end, (*file)->size()), nullptr));
      std::string bytes(8192, '\0');
      size_t have = 0;
      while (have < bytes.size()) {
        auto got = src->Read(bytes.data() + have, bytes.size() - have);
        if (!got.ok() || *got == 0) break;
        have += *got;
      }
      bytes.resize(have);
      auto control = ParseControlFile(bytes);
      if (control.ok()) {
        control_ = *control;
        if (control_->relseg_size != 0) pages_.relseg_size = control_->relseg_size;
        v_.data_checksums = control_->data_checksum_version != 0;
      }
      break;
    }
    if (!control_) {
      v_.notes.push_back("global/pg_control could not be read from the set: WAL segment size taken as 16 MB");
      if (o_.page_checksums) {
        v_.unverified.push_back("data page checksums not checked: the set's global/pg_control is not readable");
      }
    }
  }

  // A file with nothing stored to read (restored empty).
  void CountVerified() {
    std::lock_guard lock(mu_);
    ++v_.files_verified;
    if (o_.progress != nullptr) o_.progress->tables_done.fetch_add(1, std::memory_order_relaxed);
  }

  void Add(FindingKind kind, std::string subject, std::string detail) {
    std::lock_guard lock(mu_);
    v_.findings.push_back({kind, std::move(subject), std::move(detail)});
  }

  // Where the repository keeps a file: its own file (the set's, or the
  // earlier set's it refers to), or a range of a bundle.
  struct Place {
    std::string set, path;
    uint64_t begin = 0;
    std::optional<uint64_t> length;  // repo-size, when the manifest says
  };
  Place PlaceOf(const PgbrFile& f) const {
    Place p;
    p.set = f.reference.empty() ? m_.label : f.reference;
    p.length = f.repo_size;
    if (f.bundle_id) {
      p.path = backup_dir_ + "/" + p.set + "/bundle/" + std::to_string(*f.bundle_id);
      p.begin = f.bundle_offset.value_or(0);
    } else {
      p.path = backup_dir_ + "/" + p.set + "/" + f.path + suffix_.at(p.set);
    }
    return p;
  }

  // A file's content from its stored bytes: decrypted with its set's
  // passphrase (an encrypted repository), then decompressed.
  std::unique_ptr<ByteSource> Content(const Place& place, std::unique_ptr<ByteSource> stored) const {
    const std::string& pass = pass_.at(place.set);
    if (!pass.empty()) stored = MakePgbrDecipher(std::move(stored), pass, place.path);
    return MakeDecoder(CompressionOfSuffix(suffix_.at(place.set)), std::move(stored), place.path);
  }

  // One file of the set: where the repository keeps it, its bytes there
  // (rck), its content (size, SHA-1) and pages.
  void CheckFile(const PgbrFile& f) {
    if (f.size == 0 && !f.bundle_id && !f.repo_size && f.checksum.empty()) {
      // An empty file a bundled set does not store: restored empty.
      CountVerified();
      return;
    }
    const Place place = PlaceOf(f);
    const std::string& where = place.path;
    const uint64_t begin = place.begin;
    const std::optional<uint64_t> length = place.length;
    if (f.bundle_id && !length) {
      Add(FindingKind::kManifest, f.path, "a bundled file without its repo-size");
      return;
    }
    auto file = OpenRandomAccessFile(where);
    if (!file.ok()) {
      struct stat st {};
      if (::stat(where.c_str(), &st) != 0 && errno == ENOENT) {
        Add(FindingKind::kMissing, f.path, "not in the repository: " + where);
      } else {
        Add(FindingKind::kDamaged, f.path, file.status().message());
      }
      return;
    }
    const uint64_t end = length ? begin + *length : (*file)->size();
    if (!f.bundle_id && length && *length != (*file)->size()) {
      Add(FindingKind::kSize, f.path,
          where + ": " + std::to_string((*file)->size()) + " bytes in the repository, the manifest's repo-size is " +
              std::to_string(*length));
      return;
    }
    if (end > (*file)->size()) {
      Add(FindingKind::kSize, f.path,
          where + ": " + std::to_string((*file)->size()) + " bytes, the manifest's data ends at byte " +
              std::to_string(end));
      return;
    }
    EvpHash repo_sha1(HashAlgorithm::kSha1), sha1(HashAlgorithm::kSha1);
    auto range = std::make_unique<RepoRange>(**file, begin, end, &repo_sha1);
    RepoRange* raw = range.get();
    auto content = Content(place, std::move(range));
    const std::string rel = f.path.substr(0, 8) == "pg_data/" ? f.path.substr(8) : f.path;
    uint32_t segno = 0;
    const bool pages = pages_.enabled && ClassifyRelationFile(rel, &segno) == RelationFileKind::kChecksummed;
    StreamCheck check(ManifestChecksumType::kNone, pages, segno, pages_, 0);
    thread_local std::string buf(size_t{1} << 20, '\0');  // one per thread, not per file
    uint64_t size = 0;
    while (true) {
      auto got = content->Read(buf.data(), buf.size());
      if (!got.ok()) {
        Add(FindingKind::kDamaged, f.path, got.status().message());
        return;
      }
      if (*got == 0) break;
      sha1.Update(buf.data(), *got);
      check.Update(buf.data(), *got);
      size += *got;
      if (o_.progress != nullptr) o_.progress->bytes.fetch_add(*got, std::memory_order_relaxed);
    }
    check.Finish();
    bytes_ += size;
    if (o_.progress != nullptr) {
      o_.progress->extent_done.fetch_add(f.size, std::memory_order_relaxed);
      o_.progress->tables_done.fetch_add(1, std::memory_order_relaxed);
    }
    bool ok = true;
    if (raw->read() != end - begin) {
      ok = false;
      Add(FindingKind::kDamaged, f.path,
          where + ": the compressed stream ends at byte " + std::to_string(begin + raw->read()) + " of " +
              std::to_string(end));
    }
    const std::string repo_hex = repo_sha1.FinishHex();
    if (!f.repo_checksum.empty() && repo_hex != f.repo_checksum) {
      ok = false;
      Add(FindingKind::kChecksum, f.path,
          where + ": repository bytes SHA-1 " + repo_hex + ", the manifest's rck " + f.repo_checksum);
    }
    if (size != f.size) {
      ok = false;
      Add(FindingKind::kSize, f.path,
          "restores to " + std::to_string(size) + " bytes, the manifest says " + std::to_string(f.size));
    }
    const std::string hex = sha1.FinishHex();
    if (!f.checksum.empty() && hex != f.checksum) {
      ok = false;
      Add(FindingKind::kChecksum, f.path, "content SHA-1 " + hex + ", the manifest's " + f.checksum);
    }
    PageTally& t = check.tally();
    {
      std::lock_guard lock(mu_);
      if (ok) {
        ++v_.files_verified;
        ++v_.files_checksummed;
      }
      for (auto& [block, what] : t.first_bad) {
        v_.findings.push_back({FindingKind::kPage, f.path, "block " + std::to_string(block) + ": " + what});
      }
      tally_.Merge(std::move(t));
    }
  }

  // The repository's archive of the set's cluster (archive/STANZA/
  // VERSION-ID/TLILOG/SEGMENT-SHA1[.ext]): its history files and segments
  // into `inv`, archive.info's passphrase into *pass. A missing or foreign
  // archive is a finding (*found false).
  Status ListArchive(WalInventory& inv, std::string* pass, bool* found) {
    *found = false;
    const std::string archive = t_.repo + "/archive/" + t_.stanza;
    auto text = ReadSealed(archive + "/archive.info", t_.cipher_pass);
    if (!text.ok() && text.status().code() != StatusCode::kInvalidArgument) return text.status();
    if (!text.ok()) {
      v_.findings.push_back({FindingKind::kWalMissing, "archive.info", text.status().message()});
      return Status::Ok();
    }
    auto info = ParsePgbrArchiveInfo(*text, archive + "/archive.info");
    if (!info.ok()) return info.status();
    *pass = info->cipher_pass;
    std::string id;
    for (const auto& db : info->history) {
      if (db.system_id == m_.db.system_id && db.version == m_.db.version) id = db.version + "-" + std::to_string(db.id);
    }
    if (id.empty()) {
      v_.findings.push_back({FindingKind::kWalSysid, "archive.info",
                             "no archive of the set's cluster (system identifier " + std::to_string(m_.db.system_id) +
                                 ", PostgreSQL " + m_.db.version + ")"});
      return Status::Ok();
    }
    const std::string dir = archive + "/" + id;
    // History files lie in the archive's own directory; segments one level
    // down, under their timeline and log.
    VOUCH_RETURN_IF_ERROR(backup_internal::AddWalDirectory(inv, dir, dir + "/", false));
    std::vector<std::string> subdirs;
    if (int err = ListDirectoryNames(dir, &subdirs); err != 0) {
      return IoError("cannot list " + dir + ": " + std::strerror(err));
    }
    for (const auto& sub : subdirs) {
      if (sub.size() != 16 || sub.find_first_not_of("0123456789ABCDEF") != std::string::npos) continue;
      std::vector<std::string> names;
      if (int err = ListDirectoryNames(dir + "/" + sub, &names); err != 0) {
        return IoError("cannot list " + dir + "/" + sub + ": " + std::strerror(err));
      }
      for (const auto& name : names) {
        // SEGMENT-SHA1 then the compression's suffix.
        if (name.size() < 65 || name[24] != '-') continue;
        auto w = ParseWalFileName(name.substr(0, 24) + name.substr(65));
        if (!w || w->kind != WalFileName::kSegment) continue;
        inv.segments[w->base].push_back(WalCandidate{dir + "/" + sub + "/" + name, dir + "/" + sub + "/" + name, *w,
                                                     std::nullopt, Status::Ok(), name.substr(25, 40)});
      }
    }
    *found = true;
    return Status::Ok();
  }

  // The WAL the set needs, from the repository's archive of its cluster.
  Status CheckWal() {
    WalInventory inv;
    std::string archive_pass;
    bool found = false;
    VOUCH_RETURN_IF_ERROR(ListArchive(inv, &archive_pass, &found));
    if (!found) return Status::Ok();
    auto stop = ParseLsn(m_.lsn_stop);
    if (!stop) return Corrupt(v_.dir + "/backup.manifest: backup-lsn-stop \"" + m_.lsn_stop + "\" is not an LSN");
    auto tli = ParseWalFileName(m_.archive_start);
    if (!tli) {
      return Corrupt(v_.dir + "/backup.manifest: backup-archive-start \"" + m_.archive_start +
                     "\" is not a segment name");
    }
    // An encrypted archive's segments are read here, decrypted, for the
    // check (it opens plain and compressed files itself): those from the
    // set's first on.
    if (!archive_pass.empty()) {
      for (auto& [base, copies] : inv.segments) {
        if (base < m_.archive_start || (!o_.until_lsn && base > m_.archive_stop)) continue;
        for (WalCandidate& c : copies) {
          auto file = OpenFileSource(c.path);
          if (!file.ok()) {
            c.scan_error = file.status();
            continue;
          }
          auto src = MakeDecoder(CompressionOfSuffix(c.name.compression),
                                 MakePgbrDecipher(std::move(file).value(), archive_pass, c.path), c.path);
          if (Status st = backup_internal::ScanCandidate(c, *src); !st.ok()) c.scan_error = st;
          c.path.clear();
        }
      }
    }
    backup_internal::WalCheckInput in;
    in.ranges.push_back({tli->timeline, *v_.start_lsn, *stop});
    if (o_.until_lsn) {
      auto until = ParseLsn(*o_.until_lsn);
      if (!until) return InvalidArgument("--until " + *o_.until_lsn + ": not an LSN");
      in.until_lsn = *until;
    }
    in.system_identifier = m_.db.system_id;
    in.jobs = v_.jobs;
    if (control_ && IsValidWalSegmentSize(control_->xlog_seg_size)) in.segment_size = control_->xlog_seg_size;
    if (auto magic = WalPageMagicForMajor(v_.pg_major)) {
      in.magic = *magic;
    } else {
      v_.notes.push_back("WAL page magic of PostgreSQL " + m_.db.version + " unknown; 0xD110 (15) expected");
    }
    uint64_t wal_bytes = 0;
    VOUCH_RETURN_IF_ERROR(backup_internal::CheckWal(inv, in, &v_.wal, &v_.findings, &wal_bytes));
    bytes_ += wal_bytes;
    return Status::Ok();
  }

  const PgbackrestTarget& t_;
  const VerifyBackupOptions& o_;
  std::string backup_dir_;
  PgbrBackupInfo info_;
  const PgbrSet* set_ = nullptr;  // in info_
  bool empty_stanza_ = false;     // backup.info lists no set
  PgbrManifest m_;
  PageSettings pages_;
  std::map<std::string, std::string> suffix_;  // set label -> its files' suffix (".gz")
  std::map<std::string, std::string> pass_;    // set label -> its files' passphrase ("" not encrypted)
  std::string manifest_pass_;                  // backup.info's: opens the manifests
  std::optional<ControlFile> control_;
  std::mutex mu_;  // guards v_'s findings and counts, tally_
  BackupVerification v_;
  PageTally tally_;
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace

Result<BackupVerification> VerifyPgbackrest(const PgbackrestTarget& target, const VerifyBackupOptions& options) {
  return Verifier(target, options).Run();
}

Result<uint64_t> ExportPgbackrestWal(const PgbackrestTarget& target, const std::string& dest) {
  const VerifyBackupOptions options;
  return Verifier(target, options).ExportWal(dest);
}

Result<PgbackrestSetPresence> InspectPgbackrestSet(const PgbackrestTarget& target) {
  const VerifyBackupOptions options;
  return Verifier(target, options).Inspect();
}

}  // namespace vouch
