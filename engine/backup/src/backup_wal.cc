#include "backup_wal.h"

#include <dirent.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "dir_names.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/readers/byte_source.h"

namespace vouch::backup_internal {
namespace {

Result<std::string> ReadSmallDecoded(const std::string& path, size_t limit) {
  auto src = OpenDecodedFile(path);
  if (!src.ok()) return src.status();
  auto text = ReadPrefix(**src, limit);
  if (!text.ok()) return text.status();
  return std::move(text).value();
}

// Candidates with a complete segment first, each group in search order.
std::vector<WalCandidate*> Ordered(std::vector<WalCandidate>& cands) {
  std::vector<WalCandidate*> out;
  for (auto& c : cands) {
    if (c.name.kind == WalFileName::kSegment) out.push_back(&c);
  }
  for (auto& c : cands) {
    if (c.name.kind != WalFileName::kSegment) out.push_back(&c);
  }
  return out;
}

// The bytes of `inner`, hashed as they are read.
class Sha1Tee final : public ByteSource {
 public:
  explicit Sha1Tee(ByteSource& inner) : inner_(inner) {}
  Result<size_t> Read(char* dst, size_t n) override {
    auto got = inner_.Read(dst, n);
    if (got.ok()) sha1_.Update(dst, *got);
    return got;
  }
  std::string Describe() const override { return inner_.Describe(); }
  uint64_t RawOffset() const override { return inner_.RawOffset(); }
  std::string Hex() { return sha1_.FinishHex(); }

 private:
  ByteSource& inner_;
  EvpHash sha1_{HashAlgorithm::kSha1};
};

Status Scan(WalCandidate& c) {
  if (c.scan || !c.scan_error.ok() || c.path.empty()) return Status::Ok();
  auto src = OpenDecodedFile(c.path);
  if (!src.ok()) return src.status();
  return ScanCandidate(c, **src);
}

struct Required {
  uint64_t segno;
  uint32_t timeline;
  uint64_t need;  // bytes from the segment's start
};

}  // namespace

Status ScanCandidate(WalCandidate& c, ByteSource& src) {
  Sha1Tee tee(src);
  auto scan = ScanWalSegment(c.sha1.empty() ? src : tee);
  if (!scan.ok()) {
    if (!IsDamage(scan.status())) return scan.status();
    c.scan_error = scan.status();
    return Status::Ok();
  }
  if (!c.sha1.empty()) {
    if (const std::string hex = tee.Hex(); hex != c.sha1) {
      c.scan_error = Corrupt(c.display + ": the segment's SHA-1 is " + hex + ", its name says " + c.sha1);
      return Status::Ok();
    }
  }
  c.scan = std::move(scan).value();
  return Status::Ok();
}

Status AddWalDirectory(WalInventory& inv, const std::string& dir, const std::string& display_prefix, bool missing_ok) {
  std::vector<std::string> names;
  if (int err = ListDirectoryNames(dir, &names); err != 0) {
    if (err == ENOENT && missing_ok) return Status::Ok();
    if (err == ENOENT || err == ENOTDIR) return InvalidArgument("WAL directory " + dir + ": " + std::strerror(err));
    return IoError("cannot open WAL directory " + dir + ": " + std::strerror(err));
  }
  inv.sources.push_back(dir);
  for (const auto& name : names) {
    auto f = ParseWalFileName(name);
    if (!f) continue;
    const std::string full = dir + "/" + name;
    struct stat st {};
    if (stat(full.c_str(), &st) != 0) return IoError("cannot stat " + full + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) continue;
    if (f->kind == WalFileName::kSegment || f->kind == WalFileName::kPartial) {
      inv.segments[f->base].push_back(WalCandidate{display_prefix + name, full, *f, std::nullopt, Status::Ok(), ""});
    } else if (f->kind == WalFileName::kHistory && !inv.histories.count(f->timeline)) {
      auto text = ReadSmallDecoded(full, size_t{1} << 20);
      if (!text.ok()) {
        if (!IsDamage(text.status())) return text.status();
        inv.histories[f->timeline] = {display_prefix + name, ""};
        continue;
      }
      inv.histories[f->timeline] = {display_prefix + name, std::move(text).value()};
    }
  }
  return Status::Ok();
}

namespace {

using TimelineHistory = std::vector<TimelineHistoryEntry>;

// One CheckWal: the segments the manifest's ranges (and a PITR target)
// need, the history files they go by, and each segment's copies checked in
// order.
class WalCheck {
 public:
  WalCheck(WalInventory& inv, const WalCheckInput& in, BackupWalSummary* summary, std::vector<Finding>* findings,
           uint64_t* bytes)
      : inv_(inv), in_(in), summary_(summary), findings_(findings), bytes_(bytes), segsz_(in.segment_size) {}

  Status Run();

 private:
  void Add(FindingKind kind, const std::string& path, const std::string& detail) {
    findings_->push_back({kind, path, detail});
  }
  void SortRanges();
  const TimelineHistory* History(uint32_t tli);
  void RequireSegment(uint32_t tli, uint64_t s, uint64_t to);
  void Require(uint32_t tli, uint64_t from, uint64_t to);
  void CheckSwitches();
  TimelineHistory TargetPath();
  void RequireThroughTarget();
  Status ScanFirstCopies(const std::vector<Required>& list);
  Status CheckSegment(const Required& r, const std::vector<WalCandidate*>& copies);
  void FlushMissing();

  WalInventory& inv_;
  const WalCheckInput& in_;
  BackupWalSummary* summary_;
  std::vector<Finding>* findings_;
  uint64_t* bytes_;
  const uint64_t segsz_;
  std::vector<ManifestWalRange> ranges_;  // by start, then timeline
  uint64_t backup_start_ = 0, backup_end_ = 0;
  uint32_t end_tli_ = 0;
  uint64_t until_end_ = 0;  // the end of the WAL needed: the backup's, or the PITR target
  // Parsed history files, errors reported once.
  std::map<uint32_t, std::optional<TimelineHistory>> parsed_;
  std::map<std::pair<uint64_t, uint32_t>, uint64_t> req_;  // (segno, timeline) → bytes needed
  // While the segments are checked in order.
  uint64_t sysid_ = 0;
  uint64_t prev_segno_ = 0;
  uint32_t prev_tli_ = 0;
  bool have_prev_ = false;
  std::vector<const Required*> missing_;  // a run of missing segments, reported as one finding
};

Status WalCheck::Run() {
  SortRanges();
  summary_->start_lsn = backup_start_;
  summary_->end_lsn = backup_end_;
  for (const auto& r : ranges_) Require(r.timeline, r.start_lsn, r.end_lsn);
  CheckSwitches();
  until_end_ = backup_end_;
  if (in_.until_lsn && *in_.until_lsn > backup_end_) RequireThroughTarget();

  std::vector<Required> list;
  for (const auto& [key, need] : req_) list.push_back({key.first, key.second, need});
  if (list.empty()) return Status::Ok();
  summary_->segments_required = list.size();
  summary_->first_segment = WalSegmentFileName(list.front().timeline, list.front().segno, segsz_);
  summary_->last_segment = WalSegmentFileName(list.back().timeline, list.back().segno, segsz_);
  VOUCH_RETURN_IF_ERROR(ScanFirstCopies(list));

  sysid_ = in_.system_identifier;
  std::set<uint32_t> timelines;
  for (const auto& r : list) {
    timelines.insert(r.timeline);
    auto it = inv_.segments.find(WalSegmentFileName(r.timeline, r.segno, segsz_));
    std::vector<WalCandidate*> copies;
    if (it != inv_.segments.end()) copies = Ordered(it->second);
    if (copies.empty()) {
      missing_.push_back(&r);
      have_prev_ = false;
      continue;
    }
    FlushMissing();
    if (r.timeline > 1) History(r.timeline);
    VOUCH_RETURN_IF_ERROR(CheckSegment(r, copies));
  }
  FlushMissing();
  summary_->timelines.assign(timelines.begin(), timelines.end());
  return Status::Ok();
}

// The ranges by start; the backup's start, its end and the timeline it ends
// on.
void WalCheck::SortRanges() {
  ranges_ = in_.ranges;
  std::sort(ranges_.begin(), ranges_.end(), [](const auto& a, const auto& b) {
    return a.start_lsn != b.start_lsn ? a.start_lsn < b.start_lsn : a.timeline < b.timeline;
  });
  backup_start_ = ranges_.front().start_lsn;
  end_tli_ = ranges_.front().timeline;
  for (const auto& r : ranges_) {
    if (r.end_lsn >= backup_end_) {
      backup_end_ = r.end_lsn;
      end_tli_ = std::max(end_tli_, r.timeline);
    }
  }
}

const TimelineHistory* WalCheck::History(uint32_t tli) {
  auto it = parsed_.find(tli);
  if (it == parsed_.end()) {
    std::optional<TimelineHistory> h;
    auto f = inv_.histories.find(tli);
    if (f != inv_.histories.end()) {
      auto r = ParseTimelineHistory(f->second.text, tli);
      if (r.ok())
        h = std::move(r).value();
      else
        Add(FindingKind::kWalTimeline, f->second.display, r.status().message());
    }
    it = parsed_.emplace(tli, std::move(h)).first;
  }
  return it->second ? &*it->second : nullptr;
}

void WalCheck::RequireSegment(uint32_t tli, uint64_t s, uint64_t to) {
  uint64_t need = std::min(to, (s + 1) * segsz_) - s * segsz_;
  auto& n = req_[{s, tli}];
  n = std::max(n, need);
}

void WalCheck::Require(uint32_t tli, uint64_t from, uint64_t to) {
  if (to <= from) to = from + 1;
  for (uint64_t s = from / segsz_; s <= (to - 1) / segsz_; ++s) RequireSegment(tli, s, to);
}

// A backup that spans a timeline switch: the newer timeline's history must
// say the older one ended where the manifest says.
void WalCheck::CheckSwitches() {
  for (size_t i = 1; i < ranges_.size(); ++i) {
    const auto& older = ranges_[i - 1];
    const auto& newer = ranges_[i];
    if (newer.timeline <= older.timeline) {
      Add(FindingKind::kWalTimeline, "backup_manifest",
          "WAL-Ranges go from timeline " + std::to_string(older.timeline) + " to " + std::to_string(newer.timeline) +
              " at LSN " + FormatLsn(newer.start_lsn) + ": timelines must increase");
      continue;
    }
    const auto* h = History(newer.timeline);
    if (h == nullptr) {
      if (!inv_.histories.count(newer.timeline)) {
        Add(FindingKind::kWalTimeline, TimelineHistoryFileName(newer.timeline),
            "not found: needed to follow the switch from timeline " + std::to_string(older.timeline) + " to " +
                std::to_string(newer.timeline) + " at LSN " + FormatLsn(older.end_lsn));
      }
      continue;
    }
    auto e = std::find_if(h->begin(), h->end(), [&](const auto& x) { return x.timeline == older.timeline; });
    if (e == h->end() || e->end != older.end_lsn) {
      Add(FindingKind::kWalTimeline, inv_.histories[newer.timeline].display,
          "says timeline " + std::to_string(older.timeline) +
              (e == h->end() ? " is not an ancestor" : " ended at " + FormatLsn(e->end)) +
              ", the manifest says it ended at " + FormatLsn(older.end_lsn));
    }
  }
}

// The timelines recovery follows past the backup's end: those of the latest
// timeline that descends from the backup's end timeline at or after the
// backup's end, as with recovery_target_timeline = 'latest'; else the end
// timeline alone.
TimelineHistory WalCheck::TargetPath() {
  uint32_t latest = end_tli_;
  for (const auto& [tli, file] : inv_.histories) latest = std::max(latest, tli);
  for (auto it = inv_.histories.rbegin(); it != inv_.histories.rend(); ++it) {
    const uint32_t tli = it->first;
    if (tli <= end_tli_) break;
    const auto* h = History(tli);
    if (h == nullptr) continue;
    auto e = std::find_if(h->begin(), h->end(), [&](const auto& x) { return x.timeline == end_tli_; });
    if (e == h->end()) continue;
    if (e->end < backup_end_) {
      if (tli == latest) {
        Add(FindingKind::kWalTimeline, inv_.histories[tli].display,
            "timeline " + std::to_string(tli) + " (the latest) branched off timeline " + std::to_string(end_tli_) +
                " at LSN " + FormatLsn(e->end) + ", before the backup's end " + FormatLsn(backup_end_) +
                ": recovery to the latest timeline cannot start from this backup");
      }
      continue;
    }
    return *h;
  }
  return {{end_tli_, 0, 0}};
}

// Through a PITR target: each segment from the newest timeline on the path
// that had begun by it (XLogFileReadAnyTLI).
void WalCheck::RequireThroughTarget() {
  until_end_ = *in_.until_lsn;
  summary_->end_lsn = until_end_;
  const TimelineHistory path = TargetPath();
  for (uint64_t s = backup_end_ / segsz_; s <= until_end_ / segsz_; ++s) {
    uint32_t tli = end_tli_;
    for (const auto& e : path) {
      if (e.timeline >= end_tli_ && e.begin / segsz_ <= s) tli = e.timeline;
    }
    RequireSegment(tli, s, until_end_ + 1);
  }
}

// Reads the first choice of every required segment in parallel; page
// headers only are kept.
Status WalCheck::ScanFirstCopies(const std::vector<Required>& list) {
  std::vector<WalCandidate*> first;
  for (const auto& r : list) {
    auto it = inv_.segments.find(WalSegmentFileName(r.timeline, r.segno, segsz_));
    if (it == inv_.segments.end()) continue;
    auto ordered = Ordered(it->second);
    if (!ordered.empty()) first.push_back(ordered.front());
  }
  Status error;
  std::mutex mu;
  tbb::task_arena arena(std::max(1, in_.jobs));
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, first.size(), size_t{1}, [&](size_t i) {
      Status s = Scan(*first[i]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = s;
      }
    });
  });
  return error;
}

// The first copy that holds is used (recovery needs one); the issues of the
// others count only when none does. (The backup's own copy of its last
// segment ends where the backup ended: an archive's may go on.)
Status WalCheck::CheckSegment(const Required& r, const std::vector<WalCandidate*>& copies) {
  std::vector<Finding> issues_of_copies;
  for (WalCandidate* c : copies) {
    VOUCH_RETURN_IF_ERROR(Scan(*c));
    if (!c->scan_error.ok()) {
      issues_of_copies.push_back({FindingKind::kDamaged, c->display, c->scan_error.message()});
      continue;
    }
    const WalSegmentScan& scan = *c->scan;
    if (sysid_ == 0 && !scan.pages.empty() && (scan.pages[0].info & kXlpLongHeader)) sysid_ = scan.system_identifier;
    WalSegmentExpectation e;
    e.timeline = r.timeline;
    e.segno = r.segno;
    e.segment_size = static_cast<uint32_t>(segsz_);
    e.magic = in_.magic;
    e.system_identifier = sysid_;
    e.need_bytes = r.need;
    e.complete = c->name.kind == WalFileName::kSegment;
    e.min_timeline = have_prev_ && prev_segno_ + 1 == r.segno ? prev_tli_ : 0;
    uint32_t last = 0;
    auto issues = CheckWalSegment(scan, e, &last);
    *bytes_ += std::min<uint64_t>(scan.bytes, segsz_);
    if (issues.empty()) {
      prev_tli_ = last;
      ++summary_->segments_verified;
      prev_segno_ = r.segno;
      have_prev_ = true;
      return Status::Ok();
    }
    for (auto& i : issues) issues_of_copies.push_back({i.kind, c->display, i.detail});
  }
  for (auto& f : issues_of_copies) findings_->push_back(std::move(f));
  have_prev_ = false;
  return Status::Ok();
}

void WalCheck::FlushMissing() {
  if (missing_.empty()) return;
  const auto* a = missing_.front();
  const auto* b = missing_.back();
  const std::string an = WalSegmentFileName(a->timeline, a->segno, segsz_);
  const std::string bn = WalSegmentFileName(b->timeline, b->segno, segsz_);
  std::string where;
  for (const auto& s : inv_.sources) where += (where.empty() ? "" : ", ") + s;
  if (where.empty()) where = "nowhere: no WAL directory";
  std::string detail = missing_.size() == 1 ? "segment " + an + " is missing"
                                            : "segments " + an + " through " + bn + " (" +
                                                  std::to_string(missing_.size()) + ") are missing";
  detail += ": needed for the WAL from " + FormatLsn(std::max(backup_start_, a->segno * segsz_)) + " to " +
            FormatLsn(std::min(until_end_, b->segno * segsz_ + b->need)) + "; looked in " + where;
  Add(FindingKind::kWalMissing, an, detail);
  summary_->segments_missing += missing_.size();
  missing_.clear();
}

}  // namespace

Status CheckWal(WalInventory& inv, const WalCheckInput& in, BackupWalSummary* summary, std::vector<Finding>* findings,
                uint64_t* bytes) {
  summary->checked = true;
  summary->sources = inv.sources;
  if (in.ranges.empty()) {
    summary->checked = false;
    summary->note = "the manifest lists no WAL ranges";
    return Status::Ok();
  }
  return WalCheck(inv, in, summary, findings, bytes).Run();
}

}  // namespace vouch::backup_internal
