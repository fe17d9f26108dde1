// Unit tests (no server) of the base-backup formats: the page checksum
// against values PostgreSQL computed, pg_control, the backup_manifest parser
// against pg_verifybackup's bad-manifest matrix
// (t/005_bad_manifest.pl), WAL names, timeline history and page headers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testing/incremental_file_writer.h"
#include "testing/json_reference.h"
#include "vouch/hashing/crc32c.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/readers/backup_label.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

// ------------------------------------------------------------- pages

// A synthetic page: pd_lsn 1/2000028, pd_lower 24, pd_upper 8160,
// pd_special 8192, version 4; the rest bytes (i * 7) % 251.
std::string SyntheticPage() {
  std::string page(kPgBlockSize, '\0');
  for (size_t i = 24; i < page.size(); ++i) page[i] = static_cast<char>((i * 7) % 251);
  const uint32_t lsn_hi = 1, lsn_lo = 0x2000028;
  const uint16_t lower = 24, upper = 8160, special = 8192, version = 8192 | 4;
  std::memcpy(&page[0], &lsn_hi, 4);
  std::memcpy(&page[4], &lsn_lo, 4);
  std::memcpy(&page[12], &lower, 2);
  std::memcpy(&page[14], &upper, 2);
  std::memcpy(&page[16], &special, 2);
  std::memcpy(&page[18], &version, 2);
  return page;
}

// The expected values are PostgreSQL 15's: pageinspect's
// page_checksum(pg_read_binary_file('page'), blkno) gave -24134, -24135 and
// -24125 (a smallint) for blocks 0, 1 and 3 × 131072 + 17.
TEST(PgPage, ChecksumMatchesPostgres) {
  std::string page = SyntheticPage();
  EXPECT_EQ(PgPageChecksum(page.data(), 0), 0xA1BAu);
  EXPECT_EQ(PgPageChecksum(page.data(), 1), static_cast<uint16_t>(-24135));
  EXPECT_EQ(PgPageChecksum(page.data(), 3 * kPgRelSegSize + 17), static_cast<uint16_t>(-24125));
  // pd_checksum itself is not part of the sum.
  page[8] = '\x12';
  page[9] = '\x34';
  EXPECT_EQ(PgPageChecksum(page.data(), 0), 0xA1BAu);
  EXPECT_EQ(PgPageStoredChecksum(page.data()), 0x3412u);
  EXPECT_EQ(PgPageLsn(page.data()), (uint64_t{1} << 32) | 0x2000028);
}

TEST(PgPage, Verdicts) {
  std::string page = SyntheticPage();
  uint16_t sum = PgPageChecksum(page.data(), 5);
  std::memcpy(&page[8], &sum, 2);
  EXPECT_EQ(CheckPgPage(page.data(), 5, 0).kind, PgPageVerdict::kOk);
  auto bad = CheckPgPage(page.data(), 6, 0);  // transposed page
  EXPECT_EQ(bad.kind, PgPageVerdict::kBadChecksum);
  EXPECT_EQ(bad.found, sum);
  EXPECT_EQ(bad.expected, PgPageChecksum(page.data(), 6));
  // Newer than the backup's start: left to WAL replay.
  EXPECT_EQ(CheckPgPage(page.data(), 6, (uint64_t{1} << 32)).kind, PgPageVerdict::kNewerThanStart);
  EXPECT_EQ(CheckPgPage(page.data(), 6, (uint64_t{2} << 32)).kind, PgPageVerdict::kBadChecksum);
  // A bit flipped in the body.
  std::string flipped = page;
  flipped[5000] ^= 0x10;
  EXPECT_EQ(CheckPgPage(flipped.data(), 5, 0).kind, PgPageVerdict::kBadChecksum);
  // A header PostgreSQL would refuse, with a checksum that holds.
  std::string insane = page;
  const uint16_t lower = 8170;  // above pd_upper
  std::memcpy(&insane[12], &lower, 2);
  sum = PgPageChecksum(insane.data(), 5);
  std::memcpy(&insane[8], &sum, 2);
  EXPECT_EQ(CheckPgPage(insane.data(), 5, 0).kind, PgPageVerdict::kBadHeader);
  // New pages.
  std::string zero(kPgBlockSize, '\0');
  EXPECT_EQ(CheckPgPage(zero.data(), 0, 0).kind, PgPageVerdict::kNew);
  zero[4000] = 1;
  EXPECT_EQ(CheckPgPage(zero.data(), 0, 0).kind, PgPageVerdict::kNotZero);
}

TEST(PgPage, RelationFilesAsPgChecksums) {
  uint32_t seg = 99;
  EXPECT_EQ(ClassifyRelationFile("base/5/16384", &seg), RelationFileKind::kChecksummed);
  EXPECT_EQ(seg, 0u);
  EXPECT_EQ(ClassifyRelationFile("base/5/16384.2", &seg), RelationFileKind::kChecksummed);
  EXPECT_EQ(seg, 2u);
  EXPECT_EQ(ClassifyRelationFile("base/5/16384_fsm", &seg), RelationFileKind::kChecksummed);
  EXPECT_EQ(ClassifyRelationFile("base/5/16384_vm.1", &seg), RelationFileKind::kChecksummed);
  EXPECT_EQ(seg, 1u);
  EXPECT_EQ(ClassifyRelationFile("global/1262", &seg), RelationFileKind::kChecksummed);
  EXPECT_EQ(ClassifyRelationFile("pg_tblspc/16385/PG_15_202209061/5/16390", &seg), RelationFileKind::kChecksummed);
  for (const char* not_checked :
       {"global/pg_control", "global/pg_filenode.map", "base/5/pg_filenode.map", "base/5/PG_VERSION",
        "base/5/pg_internal.init", "base/5/pg_internal.init.1234", "base/pgsql_tmp/pgsql_tmp123.0",
        "base/5/pgsql_tmp99", "PG_VERSION", "pg_xact/0000", "pg_multixact/offsets/0000", "backup_label",
        "pg_tblspc/16385/other/5/16390", "pg_wal/000000010000000000000001"}) {
    EXPECT_EQ(ClassifyRelationFile(not_checked, &seg), RelationFileKind::kNotChecksummed) << not_checked;
  }
  EXPECT_EQ(ClassifyRelationFile("base/5/16384.0", &seg), RelationFileKind::kBadSegmentNumber);
  EXPECT_EQ(ClassifyRelationFile("base/5/16384.x", &seg), RelationFileKind::kBadSegmentNumber);
}

// INCREMENTAL.* files: named by the relation file they stand for.
TEST(PgPage, IncrementalFilesAreClassifiedWithTheirSegment) {
  uint32_t seg = 99;
  EXPECT_EQ(ClassifyRelationFile("base/5/INCREMENTAL.16384", &seg), RelationFileKind::kIncremental);
  EXPECT_EQ(seg, 0u);
  EXPECT_EQ(ClassifyRelationFile("base/5/INCREMENTAL.16384.3", &seg), RelationFileKind::kIncremental);
  EXPECT_EQ(seg, 3u);
  EXPECT_EQ(ClassifyRelationFile("global/INCREMENTAL.1262_vm", &seg), RelationFileKind::kIncremental);
  EXPECT_EQ(ClassifyRelationFile("pg_tblspc/16385/PG_17_202406281/5/INCREMENTAL.16390", &seg),
            RelationFileKind::kIncremental);
  EXPECT_EQ(ClassifyRelationFile("base/5/INCREMENTAL.16384.0", &seg), RelationFileKind::kBadSegmentNumber);
  EXPECT_EQ(ClassifyRelationFile("base/5/INCREMENTAL.", &seg), RelationFileKind::kBadSegmentNumber);
  // Outside the relation directories it is a file like any other (pg_combinebackup copies it).
  EXPECT_EQ(ClassifyRelationFile("pg_xact/INCREMENTAL.0000", &seg), RelationFileKind::kNotChecksummed);
}

// ------------------------------------------------------------- incremental files

// An INCREMENTAL file whose i-th block is filled with the letter 'a' + i.
std::string Incremental(const std::vector<uint32_t>& blocks, uint32_t truncation, size_t block_bytes = 8192) {
  std::string payload;
  for (size_t i = 0; i < blocks.size(); ++i) payload.append(block_bytes, static_cast<char>('a' + i));
  return testing::IncrementalFileBytes(blocks, truncation, payload);
}

TEST(IncrementalFile, ParsesWhatTheServerWrites) {
  const std::string f = Incremental({3, 7, 131071}, 200);
  EXPECT_EQ(IncrementalHeaderBytesNeeded("", 131072, 8192), 12u);
  EXPECT_EQ(IncrementalHeaderBytesNeeded(std::string_view(f).substr(0, 12), 131072, 8192), 8192u);
  EXPECT_EQ(IncrementalHeaderBytesNeeded(std::string_view(f).substr(0, 8192), 131072, 8192), 0u);
  auto h = ParseIncrementalHeader(f, f.size(), 131072, 8192);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->blocks, (std::vector<uint32_t>{3, 7, 131071}));
  EXPECT_EQ(h->truncation_block_length, 200u);
  EXPECT_EQ(h->header_length, 8192u);
  EXPECT_EQ(f.size(), 4u * 8192u);
  // No blocks: a 12-byte file, no padding.
  const std::string empty = Incremental({}, 0);
  EXPECT_EQ(empty.size(), 12u);
  auto e = ParseIncrementalHeader(empty, empty.size(), 131072, 8192);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->header_length, 12u);
  // 2,045 blocks fill the first 8 KB exactly (12 + 4 × 2045 = 8192): no padding page.
  std::vector<uint32_t> many(2045);
  for (uint32_t i = 0; i < many.size(); ++i) many[i] = i;
  const std::string exact = Incremental(many, 2045, 16);
  auto x = ParseIncrementalHeader(exact, 8192 + 2045ull * 8192, 131072, 8192);
  ASSERT_TRUE(x.ok()) << x.status().message();
  EXPECT_EQ(x->header_length, 8192u);
}

TEST(IncrementalFile, DamageIsNamedWithItsOffset) {
  const std::string good = Incremental({3, 7}, 10);
  auto fails = [](const std::string& f, uint64_t size, StatusCode code, const std::string& says) {
    auto h = ParseIncrementalHeader(f, size, 131072, 8192);
    ASSERT_FALSE(h.ok()) << says;
    EXPECT_EQ(h.status().code(), code) << h.status().message();
    EXPECT_NE(h.status().message().find(says), std::string::npos) << h.status().message();
  };
  std::string b = good;
  b[0] ^= 1;
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 0: magic 0xd3ae1f0c, expected 0xd3ae1f0d");
  b = good;
  const uint32_t huge = 131073;
  std::memcpy(&b[4], &huge, 4);
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 4: block count 131073 exceeds the segment size 131072");
  EXPECT_EQ(IncrementalHeaderBytesNeeded(b, 131072, 8192), 0u);  // refused without reading 512 KB more
  b = good;
  std::memcpy(&b[8], &huge, 4);
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 8: truncation block length 131073");
  b = good;
  std::memcpy(&b[16], &huge, 4);
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 16: block number 131073 is not inside a segment");
  b = good;
  const uint32_t three = 3;
  std::memcpy(&b[16], &three, 4);
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 16: block number 3 follows 3");
  b = good;
  b[100] = 1;
  fails(b, b.size(), StatusCode::kCorrupt, "byte offset 100: the header's padding is not zero");
  fails(good + "x", good.size() + 1, StatusCode::kCorrupt, "the file is 24577 bytes; its header (2 blocks) says 24576");
  fails(good.substr(0, 20000), 20000, StatusCode::kCorrupt, "the file is 20000 bytes");
  fails(good.substr(0, 4000), 4000, StatusCode::kTruncated, "byte offset 4000: the file ends inside its header");
  fails(good.substr(0, 7), 7, StatusCode::kTruncated, "the file ends inside its 12-byte header");
  // Every truncation is an error, never a crash.
  for (size_t n = 0; n < good.size(); n += 97) {
    EXPECT_FALSE(ParseIncrementalHeader(std::string_view(good).substr(0, n), n, 131072, 8192).ok()) << n;
  }
}

// ------------------------------------------------------------- backup_label

TEST(BackupLabel, FullAndIncremental) {
  auto full = ParseBackupLabel(
      "START WAL LOCATION: 0/6000028 (file 000000010000000000000006)\nCHECKPOINT LOCATION: 0/6000080\n"
      "BACKUP METHOD: streamed\nSTART TIMELINE: 1\n");
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(full->start_lsn, 0x6000028u);
  EXPECT_EQ(full->start_tli, 1u);
  EXPECT_FALSE(full->incremental_from_lsn.has_value());
  auto inc = ParseBackupLabel(
      "START WAL LOCATION: 1/6000028 (file 000000020000000100000006)\nSTART TIMELINE: 2\n"
      "INCREMENTAL FROM LSN: 0/4000028\nINCREMENTAL FROM TLI: 1\n");
  ASSERT_TRUE(inc.ok()) << inc.status().message();
  EXPECT_EQ(inc->start_lsn, 0x106000028u);
  EXPECT_EQ(inc->incremental_from_lsn, 0x4000028u);
  EXPECT_EQ(inc->incremental_from_tli, 1u);
  EXPECT_EQ(ParseBackupLabel("INCREMENTAL FROM LSN: 0/4000028\n").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(ParseBackupLabel("START TIMELINE: x\n").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(ParseBackupLabel("START WAL LOCATION: 0/zz (file x)\n").status().code(), StatusCode::kCorrupt);
}

// ------------------------------------------------------------- pg_control

std::string SyntheticControl(uint64_t sysid, uint32_t checksums, uint32_t version = 1300) {
  std::string b(8192, '\0');
  auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); };
  auto put64 = [&](size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); };
  put64(0, sysid);
  put32(8, version);
  put32(12, 202209061);
  put32(16, 6);
  put64(32, 0x2000060);
  put64(40, 0x2000028);
  put32(48, 1);
  put32(216, 8192);
  put32(220, 131072);
  put32(224, 8192);
  put32(228, 16u << 20);
  put32(252, checksums);
  const size_t crc = version >= 1800 ? 292 : 288;
  put32(crc, Crc32c(b.data(), crc));
  return b;
}

TEST(PgControl, ParsesFieldsAndCrc) {
  const uint64_t sysid = 7312345678901234567ull;  // above 2^53
  auto c = ParseControlFile(SyntheticControl(sysid, 1));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->system_identifier, sysid);
  EXPECT_EQ(c->timeline, 1u);
  EXPECT_EQ(c->xlog_seg_size, 16u << 20);
  EXPECT_EQ(c->relseg_size, 131072u);
  EXPECT_EQ(c->data_checksum_version, 1u);
  EXPECT_EQ(c->checkpoint_lsn, 0x2000060u);
  EXPECT_TRUE(c->CrcOk());
  std::string damaged = SyntheticControl(sysid, 1);
  damaged[100] ^= 1;
  auto d = ParseControlFile(damaged);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->CrcOk());
  EXPECT_EQ(ParseControlFile("").status().code(), StatusCode::kTruncated);
  auto newer = ParseControlFile(SyntheticControl(1, 1, 1900));
  EXPECT_EQ(newer.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(newer.status().message().find("pg_control version 1900 is not one vouch knows"), std::string::npos)
      << newer.status().message();
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos);
  EXPECT_EQ(ParseControlFile(SyntheticControl(1, 1, 1100)).status().code(), StatusCode::kUnsupported);
}

// 1700 (17) keeps 1300's offsets; 1800 (18) adds default_char_signedness at
// 256 and its CRC is at 292. The real files of both are read in
// tests/backup_pg_test.cc and compared with pg_controldata there.
TEST(PgControl, Versions17And18) {
  const uint64_t sysid = 7312345678901234567ull;
  for (uint32_t version : {1700u, 1800u}) {
    SCOPED_TRACE(version);
    std::string b = SyntheticControl(sysid, 2, version);
    if (version == 1800) {
      b[256] = 1;
      const uint32_t crc = Crc32c(b.data(), 292);
      std::memcpy(&b[292], &crc, 4);
    }
    auto c = ParseControlFile(b);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_TRUE(c->CrcOk());
    EXPECT_EQ(c->crc_offset, version == 1800 ? 292u : 288u);
    EXPECT_EQ(c->system_identifier, sysid);
    EXPECT_EQ(c->data_checksum_version, 2u);
    EXPECT_EQ(c->redo_lsn, 0x2000028u);
    EXPECT_EQ(c->state, 6u);
    EXPECT_EQ(c->default_char_signedness, version == 1800 ? std::optional<bool>(true) : std::nullopt);
    EXPECT_EQ(MajorOfControlVersion(version), static_cast<int>(version / 100));
    b[100] ^= 1;
    EXPECT_FALSE(ParseControlFile(b)->CrcOk());
  }
  EXPECT_EQ(MajorOfControlVersion(1300), 0);
  EXPECT_EQ(MajorOfCatalogVersion(202209061), 15);
}

// ------------------------------------------------------------- manifest

std::string Sha256Hex(std::string_view s) {
  EvpHash h(HashAlgorithm::kSha256);
  h.Update(s);
  return h.FinishHex();
}

// A manifest as pg_basebackup writes it, with a correct Manifest-Checksum.
std::string WithChecksum(const std::string& body) {
  return body + "\"Manifest-Checksum\": \"" + Sha256Hex(body) + "\"}\n";
}

TEST(BackupManifest, ParsesWhatPgBasebackupWrites) {
  const std::string body =
      "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n"
      "\"Files\": [\n"
      "{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Last-Modified\": \"2024-11-23 02:00:01 GMT\", "
      "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"8a744722\" },\n"
      "{ \"Encoded-Path\": \"626173652f312f313233\", \"Size\": 8192, \"Last-Modified\": \"2024-11-23 02:00:01 GMT\", "
      "\"Checksum-Algorithm\": \"sha256\", \"Checksum\": \"" +
      Sha256Hex("x") +
      "\" },\n"
      "{ \"Path\": \"global/pg_control\", \"Size\": 8192, \"Last-Modified\": \"2024-11-23 02:00:01 GMT\" }\n"
      "],\n"
      "\"WAL-Ranges\": [\n"
      "{ \"Timeline\": 2, \"Start-LSN\": \"0/5000028\", \"End-LSN\": \"0/6000100\" },\n"
      "{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/5000028\" }\n"
      "],\n";
  auto m = ParseBackupManifest(WithChecksum(body));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->version, 1);
  EXPECT_TRUE(m->ChecksumMatches());
  ASSERT_EQ(m->files.size(), 3u);
  EXPECT_EQ(m->files[0].checksum_type, ManifestChecksumType::kCrc32c);
  EXPECT_EQ(m->files[0].checksum, std::string("\x8a\x74\x47\x22", 4));
  EXPECT_EQ(m->files[1].path, "base/1/123");
  EXPECT_TRUE(m->files[1].encoded);
  EXPECT_EQ(m->files[1].checksum_type, ManifestChecksumType::kSha256);
  EXPECT_EQ(m->files[2].checksum_type, ManifestChecksumType::kNone);
  ASSERT_EQ(m->wal_ranges.size(), 2u);
  EXPECT_EQ(m->wal_ranges[0].timeline, 2u);
  EXPECT_EQ(m->wal_ranges[0].end_lsn, 0x6000100u);

  // One byte changed in what the checksum covers.
  std::string changed = WithChecksum(body);
  changed[changed.find("\"Size\": 3") + 8] = '4';
  auto c = ParseBackupManifest(changed);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->ChecksumMatches());
  // t/003_corruption.pl's bad_manifest: a newline appended.
  auto nl = ParseBackupManifest(WithChecksum(body) + "\n");
  ASSERT_TRUE(nl.ok()) << nl.status().message();
  EXPECT_FALSE(nl->ChecksumMatches());
}

TEST(BackupManifest, Version2SystemIdentifierAbove2To53) {
  const std::string body =
      "{ \"PostgreSQL-Backup-Manifest-Version\": 2,\n\"System-Identifier\": 7312345678901234567,\n"
      "\"Files\": [\n],\n";
  auto m = ParseBackupManifest(WithChecksum(body));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->version, 2);
  EXPECT_EQ(m->system_identifier, 7312345678901234567ull);
  auto v1 = ParseBackupManifest(
      WithChecksum("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"System-Identifier\": 1,\n\"Files\": [],\n"));
  EXPECT_FALSE(v1.ok());
}

// t/005_bad_manifest.pl: every manifest pg_verifybackup refuses, with its
// message.
TEST(BackupManifest, BadManifestMatrixOfPgVerifybackup) {
  struct Case {
    const char* message;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"could not parse backup manifest: parsing failed", "{\n"},
      {"could not parse backup manifest: unexpected object end", "{}\n"},
      {"could not parse backup manifest: unexpected array start", "[]\n"},
      {"could not parse backup manifest: expected version indicator", "{\"not-expected\": 1}\n"},
      {"could not parse backup manifest: unexpected manifest version",
       "{\"PostgreSQL-Backup-Manifest-Version\": \"phooey\"}\n"},
      {"could not parse backup manifest: unexpected scalar",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": true}\n"},
      {"could not parse backup manifest: unrecognized top-level field",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Oops\": 1}\n"},
      {"could not parse backup manifest: unexpected object start",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": {}}\n"},
      {"could not parse backup manifest: missing path name",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [{}]}\n"},
      {"could not parse backup manifest: both path name and encoded path name",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Encoded-Path\": "
       "\"1234\"}\n]}\n"},
      {"could not parse backup manifest: unexpected file field",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Oops\": 1}\n]}\n"},
      {"could not parse backup manifest: missing size",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\"}\n]}\n"},
      {"could not parse backup manifest: file size is not an integer",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Size\": \"Oops\"}\n]}\n"},
      {"could not parse backup manifest: could not decode file name",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Encoded-Path\": \"123\", \"Size\": 0}\n]}\n"},
      {"duplicate path name in backup manifest",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Size\": 0},\n    {\"Path\": "
       "\"x\", \"Size\": 0}\n]}\n"},
      {"could not parse backup manifest: checksum without algorithm",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Size\": 100, \"Checksum\": "
       "\"Oops\"}\n]}\n"},
      {"unrecognized checksum algorithm",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Size\": 100, "
       "\"Checksum-Algorithm\": \"Oops\", \"Checksum\": \"00\"}\n]}\n"},
      {"invalid checksum for file",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [\n    {\"Path\": \"x\", \"Size\": 100, "
       "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"0\"}\n]}\n"},
      {"could not parse backup manifest: missing start LSN",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": 1}\n]}\n"},
      {"could not parse backup manifest: missing end LSN",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": 1, \"Start-LSN\": "
       "\"0/0\"}\n]}\n"},
      {"could not parse backup manifest: unexpected WAL range field",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Oops\": 1}\n]}\n"},
      {"could not parse backup manifest: missing timeline",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {}\n]}\n"},
      {"could not parse backup manifest: unexpected object end",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": 1, \"Start-LSN\": \"0/0\", "
       "\"End-LSN\": \"0/0\"}\n]}\n"},
      {"could not parse backup manifest: timeline is not an integer",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": true, \"Start-LSN\": "
       "\"0/0\", \"End-LSN\": \"0/0\"}\n]}\n"},
      {"could not parse backup manifest: could not parse start LSN",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": 1, \"Start-LSN\": "
       "\"oops\", \"End-LSN\": \"0/0\"}\n]}\n"},
      {"could not parse backup manifest: could not parse end LSN",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"WAL-Ranges\": [\n    {\"Timeline\": 1, \"Start-LSN\": "
       "\"0/0\", \"End-LSN\": \"oops\"}\n]}\n"},
      {"could not parse backup manifest: expected at least 2 lines",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [], \"Manifest-Checksum\": null}\n"},
      {"could not parse backup manifest: last line not newline-terminated",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1,\n \"Files\": [],\n \"Manifest-Checksum\": null}"},
      {"invalid manifest checksum",
       "{\"PostgreSQL-Backup-Manifest-Version\": 1, \"Files\": [],\n \"Manifest-Checksum\": "
       "\"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567890-\"}\n"},
  };
  for (const auto& c : cases) {
    auto m = ParseBackupManifest(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), StatusCode::kCorrupt);
    EXPECT_EQ(m.status().message().rfind(c.message, 0), 0u) << c.text << " → " << m.status().message();
  }
  // Truncated anywhere: never accepted.
  const std::string good = WithChecksum(
      "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n{ \"Path\": \"x\", \"Size\": 0 }\n],\n");
  ASSERT_TRUE(ParseBackupManifest(good).ok());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(ParseBackupManifest(good.substr(0, cut)).ok()) << cut;
  }
}

// ------------------------------------------------------------- JSON reader

// json::ReadJson (the manifest's tokenizer) against nlohmann's SAX parser,
// which it replaced: same events, same accept or reject.
TEST(JsonReader, AgreesWithNlohmannOnEdgeCases) {
  using json::testing::Disagreement;
  using json::testing::Ours;
  const std::vector<std::pair<std::string, bool>> cases = {
      {"{}", true},
      {"[]", true},
      {" \t\r\n[ ]\n", true},
      {"\"\"", true},
      {"0", true},
      {"-0", true},
      {"-0.0e-0", true},
      {"1E+2", true},
      {"true", true},
      {"null", true},
      {"[false,null,true]", true},
      {"{\"a\":{\"b\":[1,{}]},\"a\":2}", true},
      {"\xEF\xBB\xBF{}", true},
      {"\xEF\xBB{}", false},
      {"", false},
      {" ", false},
      {"{", false},
      {"}", false},
      {"[1,]", false},
      {"{,}", false},
      {"{\"a\"}", false},
      {"{\"a\" 1}", false},
      {"{\"a\":1,}", false},
      {"{1:2}", false},
      {"[] []", false},
      {"01", false},
      {"1.", false},
      {".5", false},
      {"1e", false},
      {"1e+", false},
      {"-", false},
      {"+1", false},
      {"18446744073709551615", true},
      {"18446744073709551616", true},
      {"-9223372036854775808", true},
      {"-9223372036854775809", true},
      {"123456789012345678901234567890", true},
      {"1e308", true},
      {"1e309", false},
      {"-1e400", false},
      {"1e-400", true},
      {"tru", false},
      {"truex", false},
      {"nul", false},
      {"NaN", false},
      {"\"\\u0041\\u00e9\\u20AC\"", true},
      {"\"\\ud83d\\ude00\"", true},
      {"\"\\u0000\"", true},
      {"\"\\ud83d\"", false},
      {"\"\\ud83dx\"", false},
      {"\"\\ude00\"", false},
      {"\"\\ud83d\\u0041\"", false},
      {"\"\\u12\"", false},
      {"\"\\u12g4\"", false},
      {"\"\\x\"", false},
      {"\"\\'\"", false},
      {"\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"", true},
      {"\"a\tb\"", false},
      {std::string("\"a\0b\"", 5), false},
      {"\"\x7f\"", true},
      {"\"\xC3\xA9\"", true},
      {"\"\xC0\x80\"", false},
      {"\"\xC2\"", false},
      {"\"\xE0\x80\x80\"", false},
      {"\"\xE0\xA0\x80\"", true},
      {"\"\xED\x9F\xBF\"", true},
      {"\"\xED\xA0\x80\"", false},
      {"\"\xEF\xBF\xBF\"", true},
      {"\"\xF0\x8F\xBF\xBF\"", false},
      {"\"\xF0\x90\x80\x80\"", true},
      {"\"\xF4\x8F\xBF\xBF\"", true},
      {"\"\xF4\x90\x80\x80\"", false},
      {"\"\xF5\x80\x80\x80\"", false},
      {"\"\x80\"", false},
      {"\"\xFF\"", false},
      {"\"abc", false},
      {"\"abc\\", false},
      {std::string(10000, '[') + std::string(10000, ']'), true},
      {std::string(10000, '[') + std::string(9999, ']'), false},
      {"[1 2]", false},
      {"[1\"a\"]", false},
      {"{\"a\":1}x", false},
      {"[-]", false},
      {"[0x10]", false},
  };
  for (const auto& [text, ok] : cases) {
    EXPECT_EQ(Ours(text).ok, ok) << text;
    EXPECT_EQ(Disagreement(text), "") << text;
  }
  // By design: nlohmann stops at a NUL byte between tokens and accepts what
  // follows it; ReadJson rejects the NUL.
  const std::string nul("{}\0garbage", 10);
  EXPECT_FALSE(Ours(nul).ok);
  EXPECT_TRUE(json::testing::Nlohmann(nul).ok);
  EXPECT_EQ(Disagreement(nul), "");
  // The events themselves.
  const std::vector<std::string> events = {"{", "k:a", "[", "n:0", "f:1.5", "s:\xC3\xA9", "b:1", "0", "]", "}"};
  EXPECT_EQ(Ours("{\"a\": [-0, 1.5, \"\\u00e9\", true, null]}").list, events);
}

// Every truncation and every one-byte change of a real manifest: the two
// readers agree on each.
TEST(JsonReader, AgreesWithNlohmannOnDamagedManifests) {
  const std::string good = WithChecksum(
      "{ \"PostgreSQL-Backup-Manifest-Version\": 2,\n\"System-Identifier\": 7312345678901234567,\n"
      "\"Files\": [\n{ \"Path\": \"base/1/\\u00e9\", \"Size\": 8192, \"Last-Modified\": \"2026-12-01 19:20:53 GMT\", "
      "\"Checksum-Algorithm\": \"SHA256\", \"Checksum\": \"00ff\" },\n{ \"Encoded-Path\": \"61\", \"Size\": -0 }\n],\n"
      "\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }\n],\n");
  ASSERT_EQ(json::testing::Disagreement(good), "");
  ASSERT_TRUE(json::testing::Ours(good).ok);
  size_t checked = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    EXPECT_EQ(json::testing::Disagreement(good.substr(0, i)), "") << "cut at " << i;
    for (const char c : {'\0', '"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.', ' ', 'x', '\xC3', '\x80'}) {
      std::string bad = good;
      bad[i] = c;
      EXPECT_EQ(json::testing::Disagreement(bad), "") << "byte " << i << " set to " << static_cast<int>(c);
      ++checked;
    }
  }
  EXPECT_GT(checked, 5000u);
}

// ------------------------------------------------------------- WAL names

TEST(Wal, LsnAndNames) {
  EXPECT_EQ(ParseLsn("16/B374D848"), (uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(ParseLsn("0/0"), 0u);
  EXPECT_FALSE(ParseLsn("oops"));
  EXPECT_FALSE(ParseLsn("1/"));
  EXPECT_FALSE(ParseLsn("123456789/0"));
  EXPECT_EQ(FormatLsn((uint64_t{0x16} << 32) | 0xB374D848), "16/B374D848");
  constexpr uint32_t k16M = 16u << 20;
  EXPECT_EQ(WalSegmentFileName(1, 0x103, k16M), "000000010000000100000003");
  EXPECT_EQ(WalSegmentFileName(2, 5, 1u << 30), "000000020000000100000001");
  auto f = ParseWalFileName("000000010000000100000003.gz");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, WalFileName::kSegment);
  EXPECT_EQ(f->compression, ".gz");
  EXPECT_EQ(f->base, "000000010000000100000003");
  EXPECT_EQ(WalSegmentNumber(*f, k16M), 0x103u);
  EXPECT_FALSE(WalSegmentNumber(*ParseWalFileName("000000010000000100000100"), k16M));
  EXPECT_EQ(ParseWalFileName("000000010000000000000003.partial")->kind, WalFileName::kPartial);
  EXPECT_EQ(ParseWalFileName("000000010000000000000003.lz4.partial")->kind, WalFileName::kPartial);
  EXPECT_EQ(ParseWalFileName("00000002.history")->kind, WalFileName::kHistory);
  EXPECT_EQ(ParseWalFileName("00000002.history")->timeline, 2u);
  EXPECT_EQ(ParseWalFileName("000000010000000000000002.00000028.backup")->kind, WalFileName::kBackupHistory);
  for (const char* no : {"000000010000000000000003.tmp", "00000001000000000000000a", "archive_status", "xlogtemp.123",
                         "00000001000000000000003"}) {
    EXPECT_FALSE(ParseWalFileName(no)) << no;
  }
  EXPECT_EQ(WalPageMagicForMajor(15), 0xD110);
  EXPECT_EQ(WalPageMagicForMajor(17), 0xD116);
}

TEST(Wal, TimelineHistory) {
  auto h = ParseTimelineHistory("1\t0/3000000\tno recovery target specified\n\n# c\n2\t0/5000A28\tbefore 2000\n", 3);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].timeline, 1u);
  EXPECT_EQ((*h)[0].begin, 0u);
  EXPECT_EQ((*h)[0].end, 0x3000000u);
  EXPECT_EQ((*h)[1].begin, 0x3000000u);
  EXPECT_EQ((*h)[2].timeline, 3u);
  EXPECT_EQ((*h)[2].end, 0u);
  EXPECT_FALSE(ParseTimelineHistory("x\t0/1\n", 2).ok());
  EXPECT_FALSE(ParseTimelineHistory("1\n", 2).ok());
  EXPECT_FALSE(ParseTimelineHistory("2\t0/1\n1\t0/2\n", 3).ok());
  EXPECT_FALSE(ParseTimelineHistory("2\t0/1\n", 2).ok());
}

// ------------------------------------------------------------- WAL pages

constexpr uint32_t kSeg = 16u << 20;
constexpr uint64_t kSysid = 7312345678901234567ull;

// A segment whose every page header is right; `written` bytes of pages, the
// rest zeros.
std::string Segment(uint32_t tli, uint64_t segno, uint64_t written = kSeg) {
  std::string s(kSeg, '\0');
  for (uint64_t off = 0; off < written; off += kWalBlockSize) {
    char* p = &s[off];
    const uint16_t magic = 0xD110;
    const uint16_t info = off == 0 ? kXlpLongHeader : 0;
    const uint64_t addr = segno * kSeg + off;
    std::memcpy(p, &magic, 2);
    std::memcpy(p + 2, &info, 2);
    std::memcpy(p + 4, &tli, 4);
    std::memcpy(p + 8, &addr, 8);
    p[30 + (off % 50)] = 1;  // some record bytes
    if (off == 0) {
      const uint32_t seg = kSeg, blck = kWalBlockSize;
      std::memcpy(p + 24, &kSysid, 8);
      std::memcpy(p + 32, &seg, 4);
      std::memcpy(p + 36, &blck, 4);
    }
  }
  return s;
}

std::vector<WalIssue> Check(const std::string& bytes, uint64_t segno, uint64_t need = kSeg, uint32_t tli = 1,
                            uint32_t min_tli = 0) {
  auto src = MakeMemorySource(bytes);
  auto scan = ScanWalSegment(*src);
  EXPECT_TRUE(scan.ok());
  WalSegmentExpectation e;
  e.timeline = tli;
  e.segno = segno;
  e.segment_size = kSeg;
  e.magic = 0xD110;
  e.system_identifier = kSysid;
  e.need_bytes = need;
  e.min_timeline = min_tli;
  uint32_t last = 0;
  return CheckWalSegment(*scan, e, &last);
}

std::string Kinds(const std::vector<WalIssue>& issues) {
  std::string k;
  for (const auto& i : issues) k += (k.empty() ? "" : ",") + std::string(FindingKindName(i.kind));
  return k;
}

TEST(Wal, SegmentPageHeaders) {
  EXPECT_EQ(Kinds(Check(Segment(1, 3), 3)), "");
  // Written only half way, but the backup needs only the first 100 KB.
  EXPECT_EQ(Kinds(Check(Segment(1, 3, 1 << 20), 3, 100 << 10)), "");
  // ... or all of it: an all-zero page before the end.
  auto early = Check(Segment(1, 3, 1 << 20), 3);
  EXPECT_EQ(Kinds(early), "wal-header");
  EXPECT_NE(early[0].detail.find("all zeros"), std::string::npos) << early[0].detail;
  // The name says segment 4: every page address is wrong.
  auto moved = Check(Segment(1, 3), 4);
  EXPECT_EQ(Kinds(moved), "wal-header");
  EXPECT_NE(moved[0].detail.find("xlp_pageaddr 0/3000000, expected 0/4000000"), std::string::npos) << moved[0].detail;
  // Another cluster.
  std::string other = Segment(1, 3);
  other[24] ^= 1;
  EXPECT_EQ(Kinds(Check(other, 3)), "wal-sysid");
  // Garbage ('w' x size, as t/007_wal.pl writes).
  EXPECT_EQ(Kinds(Check(std::string(kSeg, 'w'), 3)), "wal-header");
  // Truncated.
  EXPECT_EQ(Kinds(Check(Segment(1, 3).substr(0, 1 << 20), 3)), "wal-truncated");
  // Timelines: a page above the file's timeline; going backwards.
  std::string up = Segment(1, 3);
  up[8192 * 5 + 4] = 2;
  EXPECT_EQ(Kinds(Check(up, 3)), "wal-timeline");
  EXPECT_EQ(Kinds(Check(Segment(1, 3), 3, kSeg, 2, 2)), "wal-timeline");
  // A WAL switch (pg_switch_wal, pg_backup_stop) on page 127: the rest of
  // the segment is zeros, headers included. Valid only when the last record
  // is an XLOG_SWITCH whose CRC holds.
  std::string sw = Segment(1, 3, 128 * 8192);
  char* last = &sw[127 * 8192];
  std::memset(last + 24, 0, 8192 - 24);
  const uint32_t tot = 24;
  const uint64_t prev = 3 * uint64_t{kSeg} + 127 * 8192 - 100;
  std::memcpy(last + 24, &tot, 4);
  std::memcpy(last + 32, &prev, 8);
  last[24 + 16] = 0x40;  // XLOG_SWITCH
  last[24 + 17] = 0;     // RM_XLOG_ID
  uint32_t crc = Crc32c(last + 24, 20);
  std::memcpy(last + 24 + 20, &crc, 4);
  EXPECT_EQ(Kinds(Check(sw, 3)), "");
  // After a record that runs into the next page, or with a bad CRC: the WAL
  // just ends.
  std::string bad = sw;
  bad[127 * 8192 + 24 + 20] ^= 1;
  EXPECT_EQ(Kinds(Check(bad, 3)), "wal-header");
  std::string checkpoint = sw;
  checkpoint[127 * 8192 + 24 + 16] = 0x00;  // XLOG_CHECKPOINT_SHUTDOWN, not a switch
  EXPECT_EQ(Kinds(Check(checkpoint, 3)), "wal-header");
  // The first segment of timeline 2 is a copy of timeline 1's: allowed.
  EXPECT_EQ(Kinds(Check(Segment(1, 3), 3, kSeg, 2, 1)), "");
}

}  // namespace
}  // namespace vouch
