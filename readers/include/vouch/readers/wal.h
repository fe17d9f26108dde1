// Write-ahead log files as they sit in pg_wal/ or a WAL archive (docs/formats.md
// "WAL"): LSNs, segment and history file names, timeline history files
// (timeline.c's readTimeLineHistory), and the page headers of a segment
// (xlog_internal.h: XLogPageHeaderData, XLogLongPageHeaderData), checked the
// way XLogReaderValidatePageHeader checks them. Records are not decoded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/finding.h"
#include "vouch/readers/byte_source.h"
#include "vouch/status.h"

namespace vouch {

constexpr uint32_t kWalBlockSize = 8192;  // XLOG_BLCKSZ
constexpr uint16_t kXlpFirstIsContRecord = 0x0001;
constexpr uint16_t kXlpLongHeader = 0x0002;
constexpr uint16_t kXlpBkpRemovable = 0x0004;
constexpr uint16_t kXlpFirstIsOverwriteContRecord = 0x0008;
constexpr uint16_t kXlpAllFlags = 0x000F;

// "16/B374D848" ⇄ LSN (each half 1 to 8 hex digits, either case).
std::optional<uint64_t> ParseLsn(std::string_view text);
std::string FormatLsn(uint64_t lsn);

// XLOG_PAGE_MAGIC of a major version (13 … 18); nullopt when unknown.
std::optional<uint16_t> WalPageMagicForMajor(int major);

// A power of two from 1 MB to 1 GB (what initdb --wal-segsize allows).
bool IsValidWalSegmentSize(uint64_t bytes);

struct WalFileName {
  enum Kind { kSegment, kPartial, kHistory, kBackupHistory } kind = kSegment;
  uint32_t timeline = 0;
  uint32_t log = 0;  // kSegment/kPartial: the name's second and third 8-digit fields
  uint32_t seg = 0;
  std::string base;         // "000000010000000000000003" or "00000002.history"
  std::string compression;  // ".gz", ".zst", ".lz4", ".bz2" or ""
};

// Recognizes a file name of a WAL archive: 24 upper-case hex digits, then
// optionally ".gz"/".zst"/".lz4"/".bz2", then optionally ".partial"; 8 hex digits
// + ".history"; 24 hex digits + ".XXXXXXXX.backup". nullopt otherwise
// (archive_status/, .tmp files, anything else).
std::optional<WalFileName> ParseWalFileName(std::string_view name);
// The segment number the name stands for; nullopt when its third field is
// not below segments-per-id for this segment size.
std::optional<uint64_t> WalSegmentNumber(const WalFileName& name, uint32_t segment_size);
std::string WalSegmentFileName(uint32_t timeline, uint64_t segno, uint32_t segment_size);
std::string TimelineHistoryFileName(uint32_t timeline);

struct TimelineHistoryEntry {
  uint32_t timeline = 0;
  uint64_t begin = 0;  // LSN where it began (0: the first timeline)
  uint64_t end = 0;    // LSN where the next one branched off (0: not ended)
};

// Parses the history file of `timeline`: lines "parentTLI<ws>X/X<ws>reason",
// '#' comments and blank lines skipped. Returns the timelines from the oldest
// to `timeline` itself (its end 0). Errors (kCorrupt) with timeline.c's words:
// a syntax error, timeline IDs not increasing, or not below `timeline`.
Result<std::vector<TimelineHistoryEntry>> ParseTimelineHistory(std::string_view text, uint32_t timeline);

struct WalPageHeader {
  uint16_t magic = 0;
  uint16_t info = 0;
  uint32_t timeline = 0;
  uint64_t pageaddr = 0;
  bool all_zero = false;  // the whole page is zeros (the end of WAL written so far)
};

struct WalSegmentScan {
  uint64_t bytes = 0;                // length of the (decoded) file; max_bytes + 1 when longer
  std::vector<WalPageHeader> pages;  // one per whole kWalBlockSize page
  // The long header of page 0 (meaningful when its info has kXlpLongHeader).
  uint64_t system_identifier = 0;
  uint32_t segment_size = 0;
  uint32_t block_size = 0;
  // The last page that is not all zeros, and its index: after an XLOG_SWITCH
  // record the rest of a segment is written as zeros (headers included), and
  // that record must be the last one on this page.
  std::string last_page;
  size_t last_page_index = 0;
};

// Whether `page` (kWalBlockSize bytes, `first` when it is its segment's first
// page) ends with an XLOG_SWITCH record whose CRC holds: walks the records
// that start on the page from the header and xlp_rem_len on.
bool WalPageEndsWithSwitch(const std::string& page, bool first);

// Reads a segment from `src` to its end (or max_bytes + 1), keeping each
// page's header: 24 bytes of memory per 8 KB page. Errors are the source's
// (a damaged compressed segment: kCorrupt/kTruncated).
Result<WalSegmentScan> ScanWalSegment(ByteSource& src, uint64_t max_bytes = uint64_t{1} << 30);

struct WalSegmentExpectation {
  uint32_t timeline = 0;           // from the file name
  uint64_t segno = 0;              // from the file name
  uint32_t segment_size = 0;       // of the cluster (pg_control)
  uint16_t magic = 0;              // XLOG_PAGE_MAGIC of the cluster's version
  uint64_t system_identifier = 0;  // of the cluster (pg_control); 0 = not compared
  // Pages starting before this offset in the segment must be valid: the
  // WAL the backup needs ends there. Pages after it may be zeros or stale.
  uint64_t need_bytes = 0;
  bool complete = true;       // must be exactly segment_size bytes (not a .partial)
  uint32_t min_timeline = 0;  // a page timeline below this goes backwards
};

struct WalIssue {
  FindingKind kind;    // kWalHeader, kWalSysid, kWalTimeline, kWalTruncated
  std::string detail;  // names the page by LSN and offset, expected and found
};

// Checks a scanned segment against what its name and the cluster imply:
// size; long header (magic, XLP_LONG_HEADER, page address, system
// identifier, segment and block size); then every page up to need_bytes
// (magic, flags, page address, timeline not above the name's and never
// going backwards; an all-zero page there means WAL ends too early, unless
// all pages after the last written one are zeros and it ends with an
// XLOG_SWITCH record: pg_switch_wal(), pg_backup_stop()). One
// issue per kind, the first page it happens on, with a count. Sets
// *last_timeline to the timeline of the last page checked.
std::vector<WalIssue> CheckWalSegment(const WalSegmentScan& scan, const WalSegmentExpectation& e,
                                      uint32_t* last_timeline);

}  // namespace vouch
