// PostgreSQL data pages: the 16-bit page checksum (src/include/storage/
// checksum_impl.h, FNV-1a based, block number mixed in), the page header
// sanity rules of PageIsVerifiedExtended (bufpage.c), and which files of a
// data directory carry page checksums (pg_checksums.c). No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vouch {

constexpr size_t kPgBlockSize = 8192;
// Blocks per relation segment file (RELSEG_SIZE of a default build); the block
// number mixed into a checksum is segment number × this + block index.
constexpr uint32_t kPgRelSegSize = 131072;

// pg_checksum_page(): the checksum `page` (kPgBlockSize bytes) should carry
// as block `block_number` of its relation, computed as if pd_checksum
// (bytes 8-9) were zero. Never 0. The page must not be new (PgPageIsNew).
uint16_t PgPageChecksum(const char* page, uint32_t block_number);

// Header fields, read in the server's (native) byte order.
uint16_t PgPageStoredChecksum(const char* page);  // pd_checksum
uint64_t PgPageLsn(const char* page);             // pd_lsn
bool PgPageIsNew(const char* page);               // pd_upper == 0
bool PgPageIsAllZero(const char* page);

struct PgPageVerdict {
  enum Kind {
    kOk,              // checksum and header hold
    kNew,             // all-zero new page: valid, has no checksum yet
    kNewerThanStart,  // pd_lsn ≥ the backup's start LSN: WAL replay rewrites it (as basebackup.c)
    kBadChecksum,     // expected ≠ found
    kBadHeader,       // checksum holds, header fields do not (flags, pd_lower/upper/special)
    kNotZero,         // pd_upper 0 (new) but not all zeros
  } kind = kOk;
  uint16_t expected = 0;  // kBadChecksum: computed
  uint16_t found = 0;     // kBadChecksum: pd_checksum
};

// Judges one page as PageIsVerifiedExtended would with checksums on; pages
// whose pd_lsn is at or after `skip_from_lsn` (the backup's start LSN; 0 =
// check all) are not judged, like pg_basebackup's own checksum pass.
PgPageVerdict CheckPgPage(const char* page, uint32_t block_number, uint64_t skip_from_lsn);

enum class RelationFileKind {
  kNotChecksummed,    // not a relation file (pg_control, PG_VERSION, outside base/global/pg_tblspc, ...)
  kChecksummed,       // its pages carry checksums; *segment_number set
  kBadSegmentNumber,  // looks like one, but "16384.x" / "16384.0": pg_checksums refuses it
  kIncremental,       // INCREMENTAL.<relation file> of an incremental backup; *segment_number set
};

// Classifies a path relative to the data directory ("base/5/16384.2",
// "global/1262", "pg_tblspc/16385/PG_15_202209061/5/16390_fsm") by
// pg_checksums's rules: files in global/, base/ and pg_tblspc/*/PG_*/,
// except pg_control, pg_filenode.map, pg_internal.init*, PG_VERSION and
// pgsql_tmp* files and directories. "INCREMENTAL.16384.2" in the same places
// is kIncremental, with segment number 2.
RelationFileKind ClassifyRelationFile(std::string_view relpath, uint32_t* segment_number);

}  // namespace vouch
