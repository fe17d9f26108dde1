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

Status Scan(WalCandidate& c) {
  if (c.scan || !c.scan_error.ok() || c.path.empty()) return Status::Ok();
  auto src = OpenDecodedFile(c.path);
  if (!src.ok()) return src.status();
  auto scan = ScanWalSegment(**src);
  if (!scan.ok()) {
    if (!IsDamage(scan.status())) return scan.status();
    c.scan_error = scan.status();
    return Status::Ok();
  }
  c.scan = std::move(scan).value();
  return Status::Ok();
}

struct Required {
  uint64_t segno;
  uint32_t timeline;
  uint64_t need;  // bytes from the segment's start
};

}  // namespace

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
      inv.segments[f->base].push_back(WalCandidate{display_prefix + name, full, *f, std::nullopt, Status::Ok()});
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

Status CheckWal(WalInventory& inv, const WalCheckInput& in, BackupWalSummary* summary, std::vector<Finding>* findings,
                uint64_t* bytes) {
  summary->checked = true;
  summary->sources = inv.sources;
  auto add = [&](FindingKind kind, const std::string& path, const std::string& detail) {
    findings->push_back({kind, path, detail});
  };
  if (in.ranges.empty()) {
    summary->checked = false;
    summary->note = "the manifest lists no WAL ranges";
    return Status::Ok();
  }
  const uint64_t segsz = in.segment_size;
  std::vector<ManifestWalRange> ranges = in.ranges;
  std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) {
    return a.start_lsn != b.start_lsn ? a.start_lsn < b.start_lsn : a.timeline < b.timeline;
  });
  const uint64_t backup_start = ranges.front().start_lsn;
  uint64_t backup_end = 0;
  uint32_t end_tli = ranges.front().timeline;
  for (const auto& r : ranges) {
    if (r.end_lsn >= backup_end) {
      backup_end = r.end_lsn;
      end_tli = std::max(end_tli, r.timeline);
    }
  }
  summary->start_lsn = backup_start;
  summary->end_lsn = backup_end;

  // Parsed history files, errors reported once.
  std::map<uint32_t, std::optional<std::vector<TimelineHistoryEntry>>> parsed;
  auto history = [&](uint32_t tli) -> const std::vector<TimelineHistoryEntry>* {
    auto it = parsed.find(tli);
    if (it == parsed.end()) {
      std::optional<std::vector<TimelineHistoryEntry>> h;
      auto f = inv.histories.find(tli);
      if (f != inv.histories.end()) {
        auto r = ParseTimelineHistory(f->second.text, tli);
        if (r.ok())
          h = std::move(r).value();
        else
          add(FindingKind::kWalTimeline, f->second.display, r.status().message());
      }
      it = parsed.emplace(tli, std::move(h)).first;
    }
    return it->second ? &*it->second : nullptr;
  };

  std::map<std::pair<uint64_t, uint32_t>, uint64_t> req;  // (segno, timeline) → bytes needed
  auto require_segment = [&](uint32_t tli, uint64_t s, uint64_t to) {
    uint64_t need = std::min(to, (s + 1) * segsz) - s * segsz;
    auto& n = req[{s, tli}];
    n = std::max(n, need);
  };
  auto require = [&](uint32_t tli, uint64_t from, uint64_t to) {
    if (to <= from) to = from + 1;
    for (uint64_t s = from / segsz; s <= (to - 1) / segsz; ++s) require_segment(tli, s, to);
  };
  for (const auto& r : ranges) require(r.timeline, r.start_lsn, r.end_lsn);

  // A backup that spans a timeline switch: the newer timeline's history
  // must say the older one ended where the manifest says.
  for (size_t i = 1; i < ranges.size(); ++i) {
    const auto& older = ranges[i - 1];
    const auto& newer = ranges[i];
    if (newer.timeline <= older.timeline) {
      add(FindingKind::kWalTimeline, "backup_manifest",
          "WAL-Ranges go from timeline " + std::to_string(older.timeline) + " to " + std::to_string(newer.timeline) +
              " at LSN " + FormatLsn(newer.start_lsn) + ": timelines must increase");
      continue;
    }
    const auto* h = history(newer.timeline);
    if (h == nullptr) {
      if (!inv.histories.count(newer.timeline)) {
        add(FindingKind::kWalTimeline, TimelineHistoryFileName(newer.timeline),
            "not found: needed to follow the switch from timeline " + std::to_string(older.timeline) + " to " +
                std::to_string(newer.timeline) + " at LSN " + FormatLsn(older.end_lsn));
      }
      continue;
    }
    auto e = std::find_if(h->begin(), h->end(), [&](const auto& x) { return x.timeline == older.timeline; });
    if (e == h->end() || e->end != older.end_lsn) {
      add(FindingKind::kWalTimeline, inv.histories[newer.timeline].display,
          "says timeline " + std::to_string(older.timeline) +
              (e == h->end() ? " is not an ancestor" : " ended at " + FormatLsn(e->end)) +
              ", the manifest says it ended at " + FormatLsn(older.end_lsn));
    }
  }

  // Through a PITR target: follow the latest timeline that descends from the
  // backup's end timeline at or after the backup's end, as recovery with
  // recovery_target_timeline = 'latest' does.
  uint64_t until_end = backup_end;
  if (in.until_lsn && *in.until_lsn > backup_end) {
    until_end = *in.until_lsn;
    summary->end_lsn = until_end;
    std::vector<TimelineHistoryEntry> path = {{end_tli, 0, 0}};
    uint32_t latest = end_tli;
    for (const auto& [tli, file] : inv.histories) latest = std::max(latest, tli);
    for (auto it = inv.histories.rbegin(); it != inv.histories.rend(); ++it) {
      const uint32_t tli = it->first;
      if (tli <= end_tli) break;
      const auto* h = history(tli);
      if (h == nullptr) continue;
      auto e = std::find_if(h->begin(), h->end(), [&](const auto& x) { return x.timeline == end_tli; });
      if (e == h->end()) continue;
      if (e->end < backup_end) {
        if (tli == latest) {
          add(FindingKind::kWalTimeline, inv.histories[tli].display,
              "timeline " + std::to_string(tli) + " (the latest) branched off timeline " + std::to_string(end_tli) +
                  " at LSN " + FormatLsn(e->end) + ", before the backup's end " + FormatLsn(backup_end) +
                  ": recovery to the latest timeline cannot start from this backup");
        }
        continue;
      }
      path = *h;
      break;
    }
    // Each segment from the newest timeline on the path that had begun by it
    // (XLogFileReadAnyTLI).
    for (uint64_t s = backup_end / segsz; s <= until_end / segsz; ++s) {
      uint32_t tli = end_tli;
      for (const auto& e : path) {
        if (e.timeline >= end_tli && e.begin / segsz <= s) tli = e.timeline;
      }
      require_segment(tli, s, until_end + 1);
    }
  }

  std::vector<Required> list;
  for (const auto& [key, need] : req) list.push_back({key.first, key.second, need});
  if (list.empty()) return Status::Ok();
  summary->segments_required = list.size();
  summary->first_segment = WalSegmentFileName(list.front().timeline, list.front().segno, segsz);
  summary->last_segment = WalSegmentFileName(list.back().timeline, list.back().segno, segsz);

  // Read the first choice of every required segment in parallel; page
  // headers only are kept.
  std::vector<WalCandidate*> first;
  for (const auto& r : list) {
    auto it = inv.segments.find(WalSegmentFileName(r.timeline, r.segno, segsz));
    if (it == inv.segments.end()) continue;
    auto ordered = Ordered(it->second);
    if (!ordered.empty()) first.push_back(ordered.front());
  }
  Status error;
  std::mutex mu;
  tbb::task_arena arena(std::max(1, in.jobs));
  arena.execute([&] {
    tbb::parallel_for(size_t{0}, first.size(), size_t{1}, [&](size_t i) {
      Status s = Scan(*first[i]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = s;
      }
    });
  });
  VOUCH_RETURN_IF_ERROR(error);

  uint64_t sysid = in.system_identifier;
  std::set<uint32_t> timelines;
  uint64_t prev_segno = 0;
  uint32_t prev_tli = 0;
  bool have_prev = false;
  // Runs of missing segments are reported as one finding.
  std::vector<const Required*> missing;
  auto flush_missing = [&] {
    if (missing.empty()) return;
    const auto* a = missing.front();
    const auto* b = missing.back();
    const std::string an = WalSegmentFileName(a->timeline, a->segno, segsz);
    const std::string bn = WalSegmentFileName(b->timeline, b->segno, segsz);
    std::string where;
    for (const auto& s : inv.sources) where += (where.empty() ? "" : ", ") + s;
    if (where.empty()) where = "nowhere: no WAL directory";
    std::string detail = missing.size() == 1 ? "segment " + an + " is missing"
                                             : "segments " + an + " through " + bn + " (" +
                                                   std::to_string(missing.size()) + ") are missing";
    detail += ": needed for the WAL from " + FormatLsn(std::max(backup_start, a->segno * segsz)) + " to " +
              FormatLsn(std::min(until_end, b->segno * segsz + b->need)) + "; looked in " + where;
    add(FindingKind::kWalMissing, an, detail);
    summary->segments_missing += missing.size();
    missing.clear();
  };

  for (const auto& r : list) {
    timelines.insert(r.timeline);
    const std::string name = WalSegmentFileName(r.timeline, r.segno, segsz);
    auto it = inv.segments.find(name);
    std::vector<WalCandidate*> cands;
    if (it != inv.segments.end()) cands = Ordered(it->second);
    if (cands.empty()) {
      missing.push_back(&r);
      have_prev = false;
      continue;
    }
    flush_missing();
    if (r.timeline > 1) history(r.timeline);
    // The first copy that holds is used (recovery needs one); the issues of
    // the others count only when none does. (The backup's own copy of its
    // last segment ends where the backup ended: an archive's may go on.)
    bool valid = false;
    std::vector<Finding> issues_of_copies;
    for (WalCandidate* c : cands) {
      VOUCH_RETURN_IF_ERROR(Scan(*c));
      if (!c->scan_error.ok()) {
        issues_of_copies.push_back({FindingKind::kDamaged, c->display, c->scan_error.message()});
        continue;
      }
      const WalSegmentScan& scan = *c->scan;
      if (sysid == 0 && !scan.pages.empty() && (scan.pages[0].info & kXlpLongHeader)) sysid = scan.system_identifier;
      WalSegmentExpectation e;
      e.timeline = r.timeline;
      e.segno = r.segno;
      e.segment_size = static_cast<uint32_t>(segsz);
      e.magic = in.magic;
      e.system_identifier = sysid;
      e.need_bytes = r.need;
      e.complete = c->name.kind == WalFileName::kSegment;
      e.min_timeline = have_prev && prev_segno + 1 == r.segno ? prev_tli : 0;
      uint32_t last = 0;
      auto issues = CheckWalSegment(scan, e, &last);
      *bytes += std::min<uint64_t>(scan.bytes, segsz);
      if (issues.empty()) {
        valid = true;
        prev_tli = last;
        break;
      }
      for (auto& i : issues) issues_of_copies.push_back({i.kind, c->display, i.detail});
    }
    if (valid) {
      ++summary->segments_verified;
      prev_segno = r.segno;
      have_prev = true;
    } else {
      for (auto& f : issues_of_copies) findings->push_back(std::move(f));
      have_prev = false;
    }
  }
  flush_missing();
  summary->timelines.assign(timelines.begin(), timelines.end());
  return Status::Ok();
}

}  // namespace vouch::backup_internal
