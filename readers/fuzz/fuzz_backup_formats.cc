// libFuzzer target: the base-backup parsers on arbitrary bytes — backup_manifest
// (JSON, its reader checked against nlohmann's; Encoded-Path, checksums, WAL
// ranges), pg_control, backup_label, an incremental backup's INCREMENTAL
// file header, a timeline history file and a WAL segment's page headers (with
// the XLOG_SWITCH walk), pgBackRest's backup.info, archive.info and
// backup.manifest, and Barman's backup.info and xlog.db.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../testing/json_reference.h"
#include "vouch/readers/backup_label.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/barman.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/pgbackrest.h"
#include "vouch/readers/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // The manifest's JSON reader agrees with nlohmann's, which it replaced.
  if (!vouch::json::testing::Disagreement(bytes).empty()) __builtin_trap();
  auto m = vouch::ParseBackupManifest(bytes);
  if (m.ok() && m->files.size() > size) __builtin_trap();  // every file takes bytes
  (void)vouch::ParseControlFile(bytes);
  (void)vouch::ParseBackupLabel(bytes);
  // As verify-backup reads it: the bytes it asks for, then the parse.
  const uint64_t need = vouch::IncrementalHeaderBytesNeeded(bytes, 131072, 8192);
  if (need > 12 + 4 * uint64_t{131072} + 8192) __builtin_trap();  // bounded by the segment size
  auto inc = vouch::ParseIncrementalHeader(bytes, size, 131072, 8192);
  if (inc.ok() && inc->header_length + inc->blocks.size() * 8192 != size) __builtin_trap();
  (void)vouch::ParseTimelineHistory(bytes, 7);
  // pgBackRest's INI files: backup.info, archive.info, backup.manifest.
  (void)vouch::ParsePgbrBackupInfo(bytes, "backup.info");
  (void)vouch::ParsePgbrArchiveInfo(bytes, "archive.info");
  auto pgbr = vouch::ParsePgbrManifest(bytes, "backup.manifest");
  if (pgbr.ok() && pgbr->files.size() > size) __builtin_trap();
  // Barman's records.
  auto barman = vouch::ParseBarmanBackupInfo(bytes, "backup.info");
  if (barman.ok() && barman->fields.size() > size) __builtin_trap();
  auto xlog = vouch::ParseBarmanXlogDb(bytes, "xlog.db");
  if (xlog.ok() && xlog->size() > size) __builtin_trap();
  auto src = vouch::MakeMemorySource(bytes, "fuzz");
  auto scan = vouch::ScanWalSegment(*src, 1 << 20);
  if (scan.ok()) {
    vouch::WalSegmentExpectation e;
    e.timeline = 1;
    e.segno = 1;
    e.segment_size = 1 << 20;
    e.magic = 0xD110;
    e.need_bytes = size;
    uint32_t last = 0;
    (void)vouch::CheckWalSegment(*scan, e, &last);
    if (!scan->last_page.empty()) (void)vouch::WalPageEndsWithSwitch(scan->last_page, scan->last_page_index == 0);
  }
  return 0;
}
