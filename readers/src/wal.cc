#include "vouch/readers/wal.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>

#include "native_load.h"
#include "vouch/hashing/crc32c.h"
#include "vouch/io_buffer.h"
#include "vouch/readers/pg_page.h"

namespace vouch {
namespace {

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool AllUpperHex(std::string_view s) {
  for (char c : s) {
    if (!IsUpperHex(c)) return false;
  }
  return true;
}

uint32_t Hex32(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) v = v * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  return v;
}

std::string Hex4(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", v);
  return buf;
}

}  // namespace

std::optional<uint64_t> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  uint64_t halves[2];
  std::string_view parts[2] = {text.substr(0, slash), text.substr(slash + 1)};
  for (int i = 0; i < 2; ++i) {
    if (parts[i].empty() || parts[i].size() > 8) return std::nullopt;
    const char* end = parts[i].data() + parts[i].size();
    auto [ptr, ec] = std::from_chars(parts[i].data(), end, halves[i], 16);
    if (ec != std::errc() || ptr != end) return std::nullopt;
  }
  return (halves[0] << 32) | halves[1];
}

std::string FormatLsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xFFFFFFFFu));
  return buf;
}

std::optional<uint16_t> WalPageMagicForMajor(int major) {
  switch (major) {
    case 13: return 0xD106;
    case 14: return 0xD10D;
    case 15: return 0xD110;
    case 16: return 0xD113;
    case 17: return 0xD116;
    case 18: return 0xD118;
    default: return std::nullopt;
  }
}

bool IsValidWalSegmentSize(uint64_t bytes) {
  return bytes >= (uint64_t{1} << 20) && bytes <= (uint64_t{1} << 30) && (bytes & (bytes - 1)) == 0;
}

std::optional<WalFileName> ParseWalFileName(std::string_view name) {
  WalFileName f;
  if (name.size() >= 24 && AllUpperHex(name.substr(0, 24))) {
    std::string_view rest = name.substr(24);
    f.base = std::string(name.substr(0, 24));
    f.timeline = Hex32(name.substr(0, 8));
    f.log = Hex32(name.substr(8, 8));
    f.seg = Hex32(name.substr(16, 8));
    if (rest.size() == 16 && rest[0] == '.' && AllUpperHex(rest.substr(1, 8)) && rest.substr(9) == ".backup") {
      f.kind = WalFileName::kBackupHistory;
      return f;
    }
    for (std::string_view c : {".gz", ".zst", ".lz4", ".bz2"}) {
      if (rest.substr(0, c.size()) == c) {
        f.compression = std::string(c);
        rest.remove_prefix(c.size());
        break;
      }
    }
    if (rest.empty()) {
      f.kind = WalFileName::kSegment;
      return f;
    }
    if (rest == ".partial") {
      f.kind = WalFileName::kPartial;
      return f;
    }
    return std::nullopt;
  }
  if (name.size() >= 16 && AllUpperHex(name.substr(0, 8)) && name.substr(8, 8) == ".history") {
    std::string_view rest = name.substr(16);
    if (!rest.empty() && rest != ".gz" && rest != ".zst" && rest != ".lz4" && rest != ".bz2") return std::nullopt;
    f.kind = WalFileName::kHistory;
    f.timeline = Hex32(name.substr(0, 8));
    f.base = std::string(name.substr(0, 16));
    f.compression = std::string(rest);
    return f;
  }
  return std::nullopt;
}

std::optional<uint64_t> WalSegmentNumber(const WalFileName& name, uint32_t segment_size) {
  const uint64_t per_id = (uint64_t{1} << 32) / segment_size;
  if (name.seg >= per_id) return std::nullopt;
  return uint64_t{name.log} * per_id + name.seg;
}

std::string WalSegmentFileName(uint32_t timeline, uint64_t segno, uint32_t segment_size) {
  const uint64_t per_id = (uint64_t{1} << 32) / segment_size;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X%08X%08X", timeline, static_cast<unsigned>(segno / per_id),
                static_cast<unsigned>(segno % per_id));
  return buf;
}

std::string TimelineHistoryFileName(uint32_t timeline) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X.history", timeline);
  return buf;
}

Result<std::vector<TimelineHistoryEntry>> ParseTimelineHistory(std::string_view text, uint32_t timeline) {
  std::vector<TimelineHistoryEntry> out;
  uint64_t prev_end = 0;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    size_t i = 0;
    auto skip_space = [&] {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    };
    skip_space();
    if (i == line.size() || line[i] == '#') continue;
    const std::string where = "line " + std::to_string(line_no) + " \"" + std::string(line) + "\"";
    uint64_t tli = 0;
    size_t digits = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && digits < 11) {
      tli = tli * 10 + static_cast<uint64_t>(line[i++] - '0');
      ++digits;
    }
    if (digits == 0 || tli > UINT32_MAX) {
      return Corrupt("syntax error in history file, " + where + ": expected a numeric timeline ID");
    }
    skip_space();
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    auto lsn = ParseLsn(line.substr(start, i - start));
    if (!lsn) {
      return Corrupt("syntax error in history file, " + where + ": expected a write-ahead log switchpoint location");
    }
    if (!out.empty() && tli <= out.back().timeline) {
      return Corrupt("invalid data in history file, " + where + ": timeline IDs must be in increasing sequence");
    }
    out.push_back({static_cast<uint32_t>(tli), prev_end, *lsn});
    prev_end = *lsn;
  }
  if (!out.empty() && timeline <= out.back().timeline) {
    return Corrupt("invalid data in history file: timeline IDs must be less than child timeline's ID " +
                   std::to_string(timeline));
  }
  out.push_back({timeline, prev_end, 0});
  return out;
}

Result<WalSegmentScan> ScanWalSegment(ByteSource& src, uint64_t max_bytes) {
  WalSegmentScan scan;
  constexpr size_t kBuffer = size_t{128} << 10;  // a multiple of kWalBlockSize; stays in L2
  IoBuffer buf(kBuffer);
  while (true) {
    auto got = ReadUpTo(src, buf.data(), kBuffer);
    if (!got.ok()) return got.status();
    size_t n = *got;
    size_t last_in_buffer = SIZE_MAX;  // the last page not all zeros in this buffer
    for (size_t off = 0; off + kWalBlockSize <= n; off += kWalBlockSize) {
      const char* p = buf.data() + off;
      WalPageHeader h;
      h.magic = LoadNative<uint16_t>(p, 0);
      h.info = LoadNative<uint16_t>(p, 2);
      h.timeline = LoadNative<uint32_t>(p, 4);
      h.pageaddr = LoadNative<uint64_t>(p, 8);
      static_assert(kWalBlockSize == kPgBlockSize, "PgPageIsAllZero reads kPgBlockSize bytes");
      h.all_zero = PgPageIsAllZero(p);
      if (scan.pages.empty() && scan.bytes == 0) {
        scan.system_identifier = LoadNative<uint64_t>(p, 24);
        scan.segment_size = LoadNative<uint32_t>(p, 32);
        scan.block_size = LoadNative<uint32_t>(p, 36);
      }
      if (!h.all_zero) last_in_buffer = off;
      if (!h.all_zero) scan.last_page_index = scan.pages.size();
      scan.pages.push_back(h);
    }
    if (last_in_buffer != SIZE_MAX) scan.last_page.assign(buf.data() + last_in_buffer, kWalBlockSize);
    scan.bytes += n;
    if (scan.bytes > max_bytes) {
      scan.bytes = max_bytes + 1;
      break;
    }
    if (n < kBuffer) break;
  }
  return scan;
}

bool WalPageEndsWithSwitch(const std::string& page, bool first) {
  if (page.size() != kWalBlockSize) return false;
  const char* p = page.data();
  auto maxalign = [](uint64_t v) { return (v + 7) & ~uint64_t{7}; };
  const uint16_t info = LoadNative<uint16_t>(p, 2);
  const uint32_t rem_len = LoadNative<uint32_t>(p, 16);
  uint64_t pos = first ? 40 : 24;  // MAXALIGN(SizeOfXLogLongPHD), SizeOfXLogShortPHD
  if (info & kXlpFirstIsContRecord) pos += maxalign(rem_len);
  constexpr uint64_t kRecordHeader = 24;  // SizeOfXLogRecord
  while (pos + kRecordHeader <= kWalBlockSize) {
    const uint32_t tot_len = LoadNative<uint32_t>(p, pos);
    if (tot_len < kRecordHeader) return false;  // no more records: not ended by a switch
    const uint8_t rec_info = static_cast<uint8_t>(p[pos + 16]);
    const uint8_t rmid = static_cast<uint8_t>(p[pos + 17]);
    if (rmid == 0 && (rec_info & 0xF0) == 0x40 && tot_len == kRecordHeader) {  // RM_XLOG_ID, XLOG_SWITCH
      // The CRC covers the record's data (none) then its header up to xl_crc.
      return Crc32c(p + pos, 20) == LoadNative<uint32_t>(p, pos + 20);
    }
    pos += maxalign(tot_len);
  }
  return false;
}

std::vector<WalIssue> CheckWalSegment(const WalSegmentScan& scan, const WalSegmentExpectation& e,
                                      uint32_t* last_timeline) {
  struct First {
    std::string detail;
    uint64_t count = 0;
  };
  std::map<FindingKind, First> firsts;
  std::vector<FindingKind> order;
  auto add = [&](FindingKind kind, const std::string& detail) {
    auto [it, inserted] = firsts.try_emplace(kind);
    if (inserted) {
      it->second.detail = detail;
      order.push_back(kind);
    }
    ++it->second.count;
  };
  const uint64_t seg_start = e.segno * e.segment_size;
  auto page_name = [&](size_t i) {
    return "page at LSN " + FormatLsn(seg_start + i * kWalBlockSize) + " (byte offset " +
           std::to_string(i * kWalBlockSize) + ")";
  };

  if (scan.bytes > e.segment_size) {
    add(FindingKind::kWalHeader, "is longer than the segment size " + std::to_string(e.segment_size));
  } else if (scan.bytes < e.need_bytes) {
    add(FindingKind::kWalTruncated, "ends after " + std::to_string(scan.bytes) +
                                        " bytes, before the WAL needed up to LSN " +
                                        FormatLsn(seg_start + e.need_bytes));
  } else if (e.complete && scan.bytes != e.segment_size) {
    add(FindingKind::kWalHeader,
        "is " + std::to_string(scan.bytes) + " bytes, expected the segment size " + std::to_string(e.segment_size));
  }

  uint32_t min_tli = e.min_timeline;
  const uint64_t need = std::min<uint64_t>(e.need_bytes, scan.bytes);
  const size_t need_pages =
      std::min<size_t>(scan.pages.size(), static_cast<size_t>((need + kWalBlockSize - 1) / kWalBlockSize));
  // Whether the last page with data ends in a WAL switch record (decoded once).
  const bool ends_with_switch =
      !scan.last_page.empty() && WalPageEndsWithSwitch(scan.last_page, scan.last_page_index == 0);
  for (size_t i = 0; i < need_pages; ++i) {
    const WalPageHeader& h = scan.pages[i];
    const uint64_t lsn = seg_start + i * kWalBlockSize;
    if (h.all_zero && i > scan.last_page_index && ends_with_switch) {
      break;  // a WAL switch: zeros to the segment's end, replay goes on in the next one
    }
    if (h.all_zero) {
      add(FindingKind::kWalHeader, page_name(i) + " is all zeros: the WAL ends before LSN " +
                                       FormatLsn(seg_start + need) + ", which the backup needs");
      continue;
    }
    if (h.magic != e.magic) {
      add(FindingKind::kWalHeader, page_name(i) + ": xlp_magic " + Hex4(h.magic) + ", expected " + Hex4(e.magic));
      continue;
    }
    if (h.info & ~kXlpAllFlags) {
      add(FindingKind::kWalHeader, page_name(i) + ": invalid xlp_info " + Hex4(h.info));
      continue;
    }
    if (i == 0 && !(h.info & kXlpLongHeader)) {
      add(FindingKind::kWalHeader, page_name(i) + ": the segment's first page lacks XLP_LONG_HEADER");
      continue;
    }
    if (h.pageaddr != lsn) {
      add(FindingKind::kWalHeader,
          page_name(i) + ": xlp_pageaddr " + FormatLsn(h.pageaddr) + ", expected " + FormatLsn(lsn));
      continue;
    }
    if (h.timeline > e.timeline) {
      add(FindingKind::kWalTimeline, page_name(i) + ": xlp_tli " + std::to_string(h.timeline) +
                                         " is above the file name's timeline " + std::to_string(e.timeline));
      continue;
    }
    if (h.timeline < min_tli) {
      add(FindingKind::kWalTimeline, page_name(i) + ": xlp_tli " + std::to_string(h.timeline) + " after timeline " +
                                         std::to_string(min_tli) + " (out-of-sequence timeline ID)");
      continue;
    }
    min_tli = h.timeline;
    if (i == 0) {
      if (e.system_identifier != 0 && scan.system_identifier != e.system_identifier) {
        add(FindingKind::kWalSysid, "xlp_sysid " + std::to_string(scan.system_identifier) +
                                        " differs from the backup's system identifier " +
                                        std::to_string(e.system_identifier) + " (a segment of another cluster)");
      }
      if (scan.segment_size != e.segment_size) {
        add(FindingKind::kWalHeader,
            "xlp_seg_size " + std::to_string(scan.segment_size) + ", expected " + std::to_string(e.segment_size));
      }
      if (scan.block_size != kWalBlockSize) {
        add(FindingKind::kWalHeader,
            "xlp_xlog_blcksz " + std::to_string(scan.block_size) + ", expected " + std::to_string(kWalBlockSize));
      }
    }
  }
  if (last_timeline) *last_timeline = min_tli;

  std::vector<WalIssue> out;
  for (const auto& kind : order) {
    const First& f = firsts[kind];
    std::string detail = f.detail;
    if (f.count > 1) detail += " (and " + std::to_string(f.count - 1) + " more pages)";
    out.push_back({kind, detail});
  }
  return out;
}

}  // namespace vouch
