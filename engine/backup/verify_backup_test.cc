// verify-backup without a server: a synthetic plain-format base backup
// (pg_control with its CRC, checksummed pages, a WAL segment with valid page
// headers, a manifest written the way pg_basebackup writes it), then the
// damage of pg_verifybackup's t/003_corruption.pl and more, each of which
// must give the finding that names it. The same checks against real
// pg_basebackup output and pg_verifybackup are in tests/backup_pg_test.cc.
#include "vouch/backup/verify_backup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "render/backup.h"
#include "support/backup_findings.h"
#include "support/test_files.h"
#include "testing/incremental_file_writer.h"
#include "vouch/hashing/crc32c.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/wal.h"

namespace vouch {
using cli::BackupChainJson;
using cli::BackupChainText;
using cli::BackupJson;
using cli::BackupPrometheus;
using cli::BackupText;
using cli::PreviousBackupSuccess;
namespace {

namespace fs = std::filesystem;
using testing::Kinds;
using testing::ReadFile;
using testing::WriteFile;

constexpr uint64_t kSysid = 7312345678901234567ull;
constexpr uint32_t kSeg = 16u << 20;

// pg_control of layout `version` (1300: 13-16, 1700: 17, 1800: 18, whose
// CRC sits at 292 instead of 288).
std::string Control(uint64_t sysid, uint32_t checksums, uint32_t version = 1300) {
  std::string b(8192, '\0');
  auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); };
  std::memcpy(&b[0], &sysid, 8);
  put32(8, version);
  put32(48, 1);
  put32(216, 8192);
  put32(220, 131072);
  put32(224, 8192);
  put32(228, kSeg);
  put32(252, checksums);
  const size_t crc = version >= 1800 ? 292 : 288;
  if (version >= 1800) b[256] = 1;  // default_char_signedness
  put32(crc, Crc32c(b.data(), crc));
  return b;
}

// A heap-like page whose checksum holds for `block`; pd_lsn 0/1000000,
// before the backup's start.
std::string Page(uint32_t block, int seed) {
  std::string p(kPgBlockSize, '\0');
  std::mt19937 rng(seed);
  for (size_t i = 24; i < p.size(); ++i) p[i] = static_cast<char>(rng());
  const uint32_t lsn_lo = 0x1000000;
  const uint16_t lower = 40, upper = 4096, special = 8192, version = 8192 | 4;
  std::memcpy(&p[4], &lsn_lo, 4);
  std::memcpy(&p[12], &lower, 2);
  std::memcpy(&p[14], &upper, 2);
  std::memcpy(&p[16], &special, 2);
  std::memcpy(&p[18], &version, 2);
  const uint16_t sum = PgPageChecksum(p.data(), block);
  std::memcpy(&p[8], &sum, 2);
  return p;
}

std::string Segment(uint32_t tli, uint64_t segno, uint64_t written, uint64_t sysid = kSysid, uint16_t magic = 0xD110) {
  std::string s(kSeg, '\0');
  for (uint64_t off = 0; off < written; off += kWalBlockSize) {
    char* p = &s[off];
    const uint16_t info = off == 0 ? kXlpLongHeader : 0;
    const uint64_t addr = segno * kSeg + off;
    std::memcpy(p, &magic, 2);
    std::memcpy(p + 2, &info, 2);
    std::memcpy(p + 4, &tli, 4);
    std::memcpy(p + 8, &addr, 8);
    p[40] = 7;
    if (off == 0) {
      const uint32_t seg = kSeg, blck = kWalBlockSize;
      std::memcpy(p + 24, &sysid, 8);
      std::memcpy(p + 32, &seg, 4);
      std::memcpy(p + 36, &blck, 4);
    }
  }
  return s;
}

std::string Digest(const std::string& algo, const std::string& bytes) {
  if (algo == "CRC32C") {
    uint32_t c = Crc32c(bytes.data(), bytes.size());
    std::string b(4, '\0');
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(c >> (8 * i));
    return HexEncode(b);
  }
  EvpHash h(*HashAlgorithmFromName(algo));
  h.Update(bytes);
  return h.FinishHex();
}

// Writes backup_manifest for every file under `dir` (except pg_wal/ and the
// manifest), as pg_basebackup does.
void WriteManifest(
    const std::string& dir, const std::string& algo, bool encode = false,
    const std::string& wal_ranges = "{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }") {
  std::string m = "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n";
  bool first = true;
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "backup_manifest" || rel.rfind("pg_wal/", 0) == 0) continue;
    paths.push_back(rel);
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& rel : paths) {
    const std::string bytes = ReadFile(dir + "/" + rel);
    m += first ? "" : ",\n";
    first = false;
    m += "{ ";
    m += encode ? "\"Encoded-Path\": \"" + HexEncode(rel) + "\"" : "\"Path\": \"" + rel + "\"";
    m += ", \"Size\": " + std::to_string(bytes.size()) + ", \"Last-Modified\": \"2024-11-23 02:00:00 GMT\"";
    if (algo != "NONE")
      m += ", \"Checksum-Algorithm\": \"" + algo + "\", \"Checksum\": \"" + Digest(algo, bytes) + "\"";
    m += " }";
  }
  m += "\n],\n\"WAL-Ranges\": [\n" + wal_ranges + "\n],\n";
  EvpHash h(HashAlgorithm::kSha256);
  h.Update(m);
  m += "\"Manifest-Checksum\": \"" + h.FinishHex() + "\"}\n";
  WriteFile(dir + "/backup_manifest", m);
}

class VerifyBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "vouch_vb_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    dir_ = root_ + "/backup";
    WriteFile(dir_ + "/PG_VERSION", "15\n");
    WriteFile(dir_ + "/backup_label", "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nLABEL: x\n");
    WriteFile(dir_ + "/global/pg_control", Control(kSysid, 1));
    WriteFile(dir_ + "/global/1262", Page(0, 1));
    WriteFile(dir_ + "/base/1/PG_VERSION", "15\n");
    WriteFile(dir_ + "/base/1/16384", Page(0, 2) + std::string(kPgBlockSize, '\0') + Page(2, 3));
    WriteFile(dir_ + "/base/1/16384_fsm", Page(0, 4));
    WriteFile(dir_ + "/base/1/16385.1", Page(131072, 5));
    WriteFile(dir_ + "/pg_xact/0000", std::string(8192, 'x'));
    WriteFile(dir_ + "/postgresql.auto.conf", "# auto\n");
    WriteFile(dir_ + "/pg_wal/000000010000000000000002", Segment(1, 2, 1 << 20));
    fs::create_directories(dir_ + "/pg_wal/archive_status");
  }
  void TearDown() override { fs::remove_all(root_); }

  BackupVerification Verify(const VerifyBackupOptions& o) {
    auto v = VerifyBackup(dir_, o);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? std::move(v).value() : BackupVerification{};
  }
  BackupVerification Verify() {
    VerifyBackupOptions o;
    o.jobs = 2;
    o.page_checksums = true;
    o.now = [] { return 1700000000.0; };
    return Verify(o);
  }

  std::string root_, dir_;
};

TEST_F(VerifyBackupTest, CleanBackupVerifies) {
  for (const char* algo : {"CRC32C", "SHA224", "SHA256", "SHA384", "SHA512", "NONE"}) {
    SCOPED_TRACE(algo);
    WriteManifest(dir_, algo);
    BackupVerification v = Verify();
    EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
    EXPECT_EQ(v.format, "plain");
    EXPECT_EQ(v.manifest_version, 1);
    EXPECT_EQ(v.system_identifier, kSysid);
    EXPECT_EQ(v.pg_major, 15);
    EXPECT_EQ(v.files_listed, 10u);
    EXPECT_EQ(v.files_exempt, 1u);  // postgresql.auto.conf
    EXPECT_EQ(v.files_verified, 9u);
    EXPECT_EQ(v.files_checksummed, std::string(algo) == "NONE" ? 0u : 9u);
    EXPECT_TRUE(v.data_checksums);
    EXPECT_EQ(v.pages_checked, 5u);
    EXPECT_EQ(v.pages_new, 1u);
    EXPECT_EQ(v.wal.segments_required, 1u);
    EXPECT_EQ(v.wal.segments_verified, 1u);
    EXPECT_EQ(v.wal.first_segment, "000000010000000000000002");
    EXPECT_EQ(v.wal.timelines, std::vector<uint32_t>{1});
    EXPECT_EQ(v.finished_at, 1700000000.0);
  }
  BackupVerification v = Verify();
  const std::string text = BackupText(v);
  EXPECT_NE(text.find("WAL segments 000000010000000000000002 through 000000010000000000000002: 1 of 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("✅ VERIFIED"), std::string::npos) << text;
  auto j = nlohmann::json::parse(BackupJson(v));
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["system_identifier"], std::to_string(kSysid));
  EXPECT_EQ(j["wal"]["segments_verified"], 1);
  const std::string prom = BackupPrometheus(v);
  EXPECT_NE(prom.find("# TYPE vouch_backup_verified gauge\nvouch_backup_verified{dir=\"" + dir_ + "\"} 1\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("vouch_backup_last_success_timestamp_seconds{dir=\"" + dir_ + "\"} 1700000000.000"),
            std::string::npos);
  EXPECT_EQ(PreviousBackupSuccess(prom, dir_), 1700000000.0);
  EXPECT_EQ(PreviousBackupSuccess(prom, "/elsewhere"), std::nullopt);
}

TEST_F(VerifyBackupTest, EncodedPaths) {
  WriteManifest(dir_, "CRC32C", /*encode=*/true);
  BackupVerification v = Verify();
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
  EXPECT_EQ(v.files_verified, 9u);
}

// t/003_corruption.pl, and the manifest's own damage (t/005).
TEST_F(VerifyBackupTest, CorruptionMatrix) {
  WriteManifest(dir_, "CRC32C");
  const std::string pristine = root_ + "/pristine";
  fs::copy(dir_, pristine, fs::copy_options::recursive);
  struct Case {
    std::string name;
    std::function<void()> damage;
    std::string expect;  // "kind:path" that must be among the findings
  };
  const std::vector<Case> cases = {
      {"extra_file", [&] { WriteFile(dir_ + "/extra_file", "This is an extra file.\n"); }, "extra:extra_file"},
      {"extra_in_db", [&] { WriteFile(dir_ + "/base/1/extra_ts_file", "x\n"); }, "extra:base/1/extra_ts_file"},
      {"missing_file", [&] { fs::remove(dir_ + "/pg_xact/0000"); }, "missing:pg_xact/0000"},
      {"missing_dir", [&] { fs::remove_all(dir_ + "/base/1"); }, "missing:base/1/16384"},
      {"append_to_file", [&] { WriteFile(dir_ + "/global/pg_control", Control(kSysid, 1) + "x"); },
       "size:global/pg_control"},
      {"truncate_file", [&] { WriteFile(dir_ + "/global/pg_control", ""); }, "size:global/pg_control"},
      {"replace_file", [&] { WriteFile(dir_ + "/PG_VERSION", "qq\n"); }, "checksum:PG_VERSION"},
      {"bad_manifest", [&] { WriteFile(dir_ + "/backup_manifest", ReadFile(dir_ + "/backup_manifest") + "\n"); },
       "manifest:backup_manifest"},
      {"truncated_manifest",
       [&] {
         std::string m = ReadFile(dir_ + "/backup_manifest");
         WriteFile(dir_ + "/backup_manifest", m.substr(0, m.size() / 2));
       },
       "manifest:backup_manifest"},
      {"no_manifest", [&] { fs::remove(dir_ + "/backup_manifest"); }, "manifest:backup_manifest"},
      {"missing_wal", [&] { fs::remove(dir_ + "/pg_wal/000000010000000000000002"); },
       "wal-missing:000000010000000000000002"},
      {"garbled_wal", [&] { WriteFile(dir_ + "/pg_wal/000000010000000000000002", std::string(kSeg, 'w')); },
       "wal-header:pg_wal/000000010000000000000002"},
      {"foreign_wal", [&] { WriteFile(dir_ + "/pg_wal/000000010000000000000002", Segment(1, 2, 1 << 20, 42)); },
       "wal-sysid:pg_wal/000000010000000000000002"},
      {"pg_control_crc",
       [&] {
         std::string c = Control(kSysid, 1);
         c[100] ^= 1;  // same size: the manifest checksum and the CRC both catch it
         WriteFile(dir_ + "/global/pg_control", c);
       },
       "control:global/pg_control"},
      // Exempt as in pg_verifybackup: never findings.
      {"exempt",
       [&] {
         WriteFile(dir_ + "/standby.signal", "");
         WriteFile(dir_ + "/postgresql.auto.conf", "changed");
       },
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(dir_);
    fs::copy(pristine, dir_, fs::copy_options::recursive);
    c.damage();
    BackupVerification v = Verify();
    const std::string kinds = Kinds(v);
    if (c.expect.empty()) {
      EXPECT_TRUE(v.outcome().Verified()) << kinds;
      continue;
    }
    EXPECT_FALSE(v.outcome().Verified());
    EXPECT_NE((" " + kinds + " ").find(" " + c.expect + " "), std::string::npos) << kinds;
    EXPECT_NE(BackupText(v).find("❌ NOT VERIFIED"), std::string::npos);
    EXPECT_NE(BackupPrometheus(v).find("vouch_backup_verified{dir=\"" + dir_ + "\"} 0"), std::string::npos);
    // A failed run carries the last success over, or leaves it out.
    EXPECT_EQ(BackupPrometheus(v).find("last_success_timestamp_seconds{"), std::string::npos);
    EXPECT_NE(BackupPrometheus(v, 1600000000.0).find("last_success_timestamp_seconds{dir=\"" + dir_ + "\"} 1600000000"),
              std::string::npos);
  }
}

TEST_F(VerifyBackupTest, CorruptPageIsNamedWithBlockAndChecksums) {
  WriteManifest(dir_, "CRC32C");
  std::string rel = ReadFile(dir_ + "/base/1/16384");
  rel[2 * kPgBlockSize + 5000] ^= 0x01;  // one bit of block 2
  WriteFile(dir_ + "/base/1/16384", rel);
  BackupVerification v = Verify();
  EXPECT_FALSE(v.outcome().Verified());
  EXPECT_EQ(Kinds(v), "checksum:base/1/16384 page:base/1/16384");
  ASSERT_EQ(v.findings.size(), 2u);
  const auto& page = v.findings[1];
  EXPECT_NE(page.detail.find("block 2: checksum "), std::string::npos) << page.detail;
  EXPECT_NE(page.detail.find("expected"), std::string::npos);
  EXPECT_EQ(v.pages_bad, 1u);
  // Segment 1 of relation 16385: block numbers continue at 131072.
  std::string seg1 = ReadFile(dir_ + "/base/1/16385.1");
  WriteFile(dir_ + "/base/1/16385.1", Page(0, 5));  // a valid page, but for block 0
  WriteManifest(dir_, "CRC32C");
  v = Verify();
  EXPECT_EQ(Kinds(v), "page:base/1/16384 page:base/1/16385.1");
  ASSERT_EQ(v.findings.size(), 2u);
  EXPECT_NE(v.findings[1].detail.find("block 131072: "), std::string::npos) << v.findings[1].detail;
  // Checksums off in pg_control: pages cannot be judged, and a backup whose
  // page checksums were asked for is then not fully verified (exit 3).
  WriteFile(dir_ + "/global/pg_control", Control(kSysid, 0));
  WriteFile(dir_ + "/base/1/16385.1", seg1);
  WriteManifest(dir_, "CRC32C");
  v = Verify();
  EXPECT_TRUE(v.findings.empty()) << Kinds(v);
  EXPECT_FALSE(v.outcome().Verified());
  EXPECT_EQ(ExitCode(v.outcome()), 3);
  EXPECT_FALSE(v.data_checksums);
  ASSERT_EQ(v.unverified.size(), 1u);
  EXPECT_NE(v.unverified[0].find("data checksums off"), std::string::npos);
  EXPECT_NE(BackupText(v).find("⚠️ NOT FULLY VERIFIED"), std::string::npos) << BackupText(v);
  VerifyBackupOptions o;
  o.jobs = 2;
  EXPECT_EQ(ExitCode(Verify(o).outcome()), 0);  // not asked for: verified
}

// A backup its tool writes without a manifest (Barman's rsync method):
// with without_manifest, no manifest is no finding; every file is read and
// counted, pages checked, a tablespace kept beside the data directory read
// as pg_tblspc/OID/..., and the WAL range given is the one checked.
TEST_F(VerifyBackupTest, WithoutAManifestEveryFileIsReadAndPageChecked) {
  WriteFile(root_ + "/16400/PG_15_202209061/1/16500", Page(0, 7) + Page(1, 8));
  VerifyBackupOptions o;
  o.jobs = 2;
  o.page_checksums = true;
  // Without the option: a backup without a manifest is a finding.
  EXPECT_EQ(Kinds(Verify(o)), "manifest:backup_manifest");
  o.without_manifest = BackupWithoutManifest{"test rsync backup", {1, 0x2000028, 0x2000100}, {}};
  o.without_manifest->tablespaces.emplace_back("16400", root_ + "/16400");
  BackupVerification v = Verify(o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
  EXPECT_EQ(v.no_manifest, "test rsync backup");
  // 9 in the data directory (pg_wal/ and postgresql.auto.conf exempt, as
  // with a manifest), 1 in the tablespace.
  EXPECT_EQ(v.files_listed, 10u);
  EXPECT_EQ(v.files_verified, 10u);
  EXPECT_EQ(v.pages_checked, 7u);
  EXPECT_EQ(v.wal.segments_verified, 1u);
  EXPECT_NE(BackupText(v).find("backup_manifest: none (test rsync backup)"), std::string::npos) << BackupText(v);
  // A flipped page in the tablespace is named by its place in the backup.
  std::string ts = ReadFile(root_ + "/16400/PG_15_202209061/1/16500");
  ts[kPgBlockSize + 5000] ^= 0x01;
  WriteFile(root_ + "/16400/PG_15_202209061/1/16500", ts);
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "page:pg_tblspc/16400/PG_15_202209061/1/16500");
}

// pg_control of PostgreSQL 17 (1700) and 18 (1800, CRC at 292) is read and
// its pages checked; one of a version vouch does not know is said to be
// that, never "missing or fails its CRC", and the backup is not fully
// verified (exit 3) rather than ✅ with the checks silently left out.
TEST_F(VerifyBackupTest, ControlFileVersions) {
  for (uint32_t version : {1700u, 1800u}) {
    SCOPED_TRACE(version);
    WriteFile(dir_ + "/global/pg_control", Control(kSysid, 1, version));
    WriteFile(dir_ + "/pg_wal/000000010000000000000002",
              Segment(1, 2, 1 << 20, kSysid, *WalPageMagicForMajor(static_cast<int>(version / 100))));
    WriteManifest(dir_, "CRC32C");
    BackupVerification v = Verify();
    EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
    EXPECT_EQ(ExitCode(v.outcome()), 0);
    EXPECT_EQ(v.pg_major, version / 100);
    EXPECT_EQ(v.system_identifier, kSysid);
    EXPECT_EQ(v.pages_checked, 5u);
  }
  // An 1800 file written with the CRC where 1300 keeps it fails its CRC.
  std::string wrong = Control(kSysid, 1, 1300);
  const uint32_t v1800 = 1800;
  std::memcpy(&wrong[8], &v1800, 4);
  WriteFile(dir_ + "/global/pg_control", wrong);
  WriteFile(dir_ + "/pg_wal/000000010000000000000002", Segment(1, 2, 1 << 20));  // PG_VERSION says 15
  WriteManifest(dir_, "CRC32C");
  EXPECT_EQ(Kinds(Verify()), "control:global/pg_control");

  WriteFile(dir_ + "/global/pg_control", Control(kSysid, 1, 1900));
  WriteManifest(dir_, "CRC32C");
  for (bool pages : {true, false}) {
    SCOPED_TRACE(pages);
    VerifyBackupOptions o;
    o.jobs = 2;
    o.page_checksums = pages;
    BackupVerification v = Verify(o);
    EXPECT_TRUE(v.findings.empty()) << Kinds(v);
    EXPECT_FALSE(v.outcome().Verified());
    EXPECT_EQ(ExitCode(v.outcome()), 3);
    EXPECT_EQ(v.pages_checked, 0u);
    const std::string text = BackupText(v);
    EXPECT_EQ(text.find("missing"), std::string::npos) << text;
    EXPECT_EQ(text.find("fails its CRC"), std::string::npos) << text;
    EXPECT_EQ(text.find("✅ VERIFIED"), std::string::npos) << text;
    EXPECT_NE(text.find("⚠️ NOT FULLY VERIFIED"), std::string::npos) << text;
    ASSERT_EQ(v.unverified.size(), pages ? 2u : 1u) << text;
    EXPECT_NE(v.unverified[0].find("pg_control version 1900 is not one vouch knows"), std::string::npos)
        << v.unverified[0];
    if (pages) {
      EXPECT_NE(v.unverified[1].find("of a version vouch does not read"), std::string::npos) << text;
    }
    auto j = nlohmann::json::parse(BackupJson(v));
    EXPECT_EQ(j["verified"], false);
    EXPECT_EQ(j["complete"], false);
  }
}

using testing::IncrementalFileBytes;

// An incremental backup's INCREMENTAL.* files: the header is checked, and the
// blocks it carries are pages numbered by its list within the segment the
// name gives (block 5 of INCREMENTAL.16386.1 is block 131077).
TEST_F(VerifyBackupTest, IncrementalFilesHeadersAndPages) {
  const std::string label =
      "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nSTART TIMELINE: 1\n"
      "INCREMENTAL FROM LSN: 0/1000028\nINCREMENTAL FROM TLI: 1\nLABEL: x\n";
  WriteFile(dir_ + "/backup_label", label);
  const std::string seg1 = IncrementalFileBytes({5, 9}, 12, Page(131072 + 5, 7) + Page(131072 + 9, 8));
  WriteFile(dir_ + "/base/1/INCREMENTAL.16386.1", seg1);
  WriteFile(dir_ + "/base/1/INCREMENTAL.16387", IncrementalFileBytes({}, 4, ""));
  WriteManifest(dir_, "SHA256");
  BackupVerification v = Verify();
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
  EXPECT_TRUE(v.incremental.incremental);
  EXPECT_EQ(v.incremental.from_lsn, 0x1000028u);
  EXPECT_EQ(v.incremental.files, 2u);
  EXPECT_EQ(v.incremental.blocks, 2u);
  EXPECT_EQ(v.pages_checked, 5u + 2u);
  EXPECT_EQ(v.start_lsn, 0x2000028u);
  EXPECT_NE(BackupText(v).find("✅ incremental backup: follows the backup that started at LSN 0/1000028 on timeline "
                               "1; 2 INCREMENTAL files read, 2 with valid headers, 2 blocks carried"),
            std::string::npos)
      << BackupText(v);

  // A page whose checksum is for its place in the file, not in the segment.
  WriteFile(dir_ + "/base/1/INCREMENTAL.16386.1", IncrementalFileBytes({5, 9}, 12, Page(5, 7) + Page(131072 + 9, 8)));
  WriteManifest(dir_, "SHA256");
  v = Verify();
  EXPECT_EQ(Kinds(v), "page:base/1/INCREMENTAL.16386.1");
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_NE(v.findings[0].detail.find("block 131077: checksum"), std::string::npos) << v.findings[0].detail;

  // A damaged header, without page checks too: the file's finding names where.
  std::string bad = seg1;
  bad[12] = 10;  // the first block number, 5 → 10: the second, 9, then breaks the ascending order
  WriteFile(dir_ + "/base/1/INCREMENTAL.16386.1", bad);
  WriteManifest(dir_, "CRC32C");
  VerifyBackupOptions o;
  o.jobs = 2;
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "incremental:base/1/INCREMENTAL.16386.1");
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_NE(v.findings[0].detail.find("byte offset 16: block number 9 follows"), std::string::npos)
      << v.findings[0].detail;
  WriteFile(dir_ + "/base/1/INCREMENTAL.16386.1", seg1.substr(0, 9000));
  WriteManifest(dir_, "CRC32C");
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "incremental:base/1/INCREMENTAL.16386.1");

  // INCREMENTAL files in a backup whose label does not say it is incremental.
  WriteFile(dir_ + "/base/1/INCREMENTAL.16386.1", seg1);
  WriteFile(dir_ + "/backup_label", "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nLABEL: x\n");
  WriteManifest(dir_, "CRC32C");
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "incremental:backup_label");
}

// A chain without a server: the fixture's backup as the full one, copies of
// it made incremental (backup_label, one relation file as INCREMENTAL).
TEST_F(VerifyBackupTest, ChainChecksAsPgCombinebackupNeedsThem) {
  WriteFile(dir_ + "/backup_label",
            "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nSTART TIMELINE: 1\nLABEL: x\n");
  WriteManifest(dir_, "CRC32C");
  const std::string full = dir_;
  auto incremental = [&](const std::string& name, const std::string& from, const std::string& start) {
    const std::string d = root_ + "/" + name;
    fs::copy(full, d, fs::copy_options::recursive);
    WriteFile(d + "/backup_label", "START WAL LOCATION: " + start + " (file 000000010000000000000002)\n" +
                                       "START TIMELINE: 1\nINCREMENTAL FROM LSN: " + from +
                                       "\nINCREMENTAL FROM TLI: 1\n");
    fs::remove(d + "/base/1/16384");
    WriteFile(d + "/base/1/INCREMENTAL.16384", IncrementalFileBytes({1}, 3, Page(1, 9)));
    WriteManifest(d, "CRC32C");
    return d;
  };
  const std::string inc1 = incremental("inc1", "0/2000028", "0/2000060");
  const std::string inc2 = incremental("inc2", "0/2000060", "0/2000090");
  VerifyBackupOptions o;
  o.jobs = 2;
  o.page_checksums = true;
  auto c = VerifyBackupChain({full, inc1, inc2}, o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(ExitCode(c->outcome()), 0) << BackupChainText(*c);
  EXPECT_EQ(c->dependencies_checked, 2u);
  EXPECT_NE(BackupChainText(*c).find("✅ CHAIN VERIFIED"), std::string::npos);
  auto j = nlohmann::json::parse(BackupChainJson(*c));
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["backups"].size(), 3u);

  auto findings = [&](const std::vector<std::string>& dirs) {
    auto r = VerifyBackupChain(dirs, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::string out;
    if (!r.ok()) return out;
    EXPECT_EQ(ExitCode(r->outcome()), 1);
    for (const auto& f : r->findings) out += f.subject + ": " + f.detail + "\n";
    return out;
  };
  EXPECT_NE(
      findings({full, inc2})
          .find(inc2 + ": follows LSN 0/2000060 (INCREMENTAL FROM LSN), but " + full + " starts at LSN 0/2000028"),
      std::string::npos);
  EXPECT_NE(findings({inc1, inc2}).find(inc1 + ": is an incremental backup"), std::string::npos);
  EXPECT_NE(findings({full, full}).find(full + ": is a full backup, but only the first"), std::string::npos);
  // inc2's INCREMENTAL.16384 walks through inc1's to a full file: gone from the full backup.
  const std::string bare = root_ + "/bare";
  fs::copy(full, bare, fs::copy_options::recursive);
  fs::remove(bare + "/base/1/16384");
  WriteManifest(bare, "CRC32C");
  EXPECT_NE(findings({bare, inc1, inc2})
                .find(inc2 + "/base/1/INCREMENTAL.16384: needs base/1/16384, which " + bare +
                      " holds neither in full nor as INCREMENTAL"),
            std::string::npos);
  // Another cluster's backup in the chain.
  const std::string other = incremental("other", "0/2000060", "0/2000090");
  WriteFile(other + "/global/pg_control", Control(kSysid + 1, 1));
  WriteFile(other + "/pg_wal/000000010000000000000002", Segment(1, 2, 1 << 20, kSysid + 1));
  WriteManifest(other, "CRC32C");
  EXPECT_NE(findings({full, inc1, other}).find(other + ": system identifier " + std::to_string(kSysid + 1)),
            std::string::npos);
  EXPECT_EQ(VerifyBackupChain({full}, o).status().code(), StatusCode::kInvalidArgument);
}

// A CRC32C file larger than two parts is read by several threads and its
// parts' CRCs combined; a sparse relation file of new pages is valid.
TEST_F(VerifyBackupTest, LargeFileSplitAcrossThreads) {
  const std::string big = dir_ + "/base/1/99999";
  WriteFile(big, "");
  ASSERT_EQ(truncate(big.c_str(), (uint64_t{140} << 20) + 8192), 0);
  WriteManifest(dir_, "CRC32C");
  for (int jobs : {1, 3}) {
    VerifyBackupOptions o;
    o.jobs = jobs;
    o.page_checksums = true;
    BackupVerification v = Verify(o);
    EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
    EXPECT_EQ(v.pages_new, 1u + (140u << 20) / 8192 + 1);
  }
  // One changed byte in the middle part.
  int fd = open(big.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "z", 1, 100 << 20), 1);
  close(fd);
  VerifyBackupOptions o;
  o.jobs = 3;
  BackupVerification v = Verify(o);
  EXPECT_EQ(Kinds(v), "checksum:base/1/99999");
}

// SHA-256 files large enough for the shared read-ahead (64 MB and up, more
// than 1/jobs of the bytes, more than one job): with --jobs 2 one of them
// has it, with 3 and 4 both, filled by the other threads between their own
// blocks. Every block's bytes differ, so a block hashed twice, skipped or
// out of order changes the digest; the sizes are not multiples of the read
// block, so the short last read counts too.
TEST_F(VerifyBackupTest, LargeSha256FilesReadAhead) {
  const std::string big = dir_ + "/base/1/88888", second = dir_ + "/base/1/88889";
  for (const auto& [path, size, salt] : {std::tuple{big, (uint64_t{72} << 20) + 1234, uint64_t{0}},
                                         std::tuple{second, (uint64_t{70} << 20) + 4321, uint64_t{77}}}) {
    std::string data(size, '\0');
    for (uint64_t i = 0; i + 8 <= data.size(); i += 4096) {
      const uint64_t v = i + salt;
      std::memcpy(&data[i], &v, 8);
    }
    WriteFile(path, data);
  }
  WriteManifest(dir_, "SHA256");
  for (int jobs : {1, 2, 3, 4}) {
    VerifyBackupOptions o;
    o.jobs = jobs;
    BackupVerification v = Verify(o);
    EXPECT_TRUE(v.outcome().Verified()) << jobs << " jobs: " << Kinds(v);
  }
  int fd = open(big.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "z", 1, (uint64_t{72} << 20) + 1000), 1);  // in the last, short block
  close(fd);
  fd = open(second.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "z", 1, 128 << 10), 1);  // the first byte of the second block
  close(fd);
  for (int jobs : {2, 4}) {
    VerifyBackupOptions o;
    o.jobs = jobs;
    EXPECT_EQ(Kinds(Verify(o)), "checksum:base/1/88888 checksum:base/1/88889") << jobs << " jobs";
  }
}

TEST_F(VerifyBackupTest, WalFromArchivesAndThroughATarget) {
  WriteManifest(dir_, "CRC32C");
  const std::string archive = root_ + "/archive";
  fs::create_directories(archive);
  fs::rename(dir_ + "/pg_wal/000000010000000000000002", archive + "/000000010000000000000002");
  VerifyBackupOptions o;
  o.jobs = 2;
  o.wal_archives = {archive};
  BackupVerification v = Verify(o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
  EXPECT_EQ(v.wal.sources.size(), 2u);
  // Through 0/4000010: segments 3 and 4 are needed too, and all of 2.
  o.until_lsn = "0/4000010";
  v = Verify(o);
  EXPECT_NE(Kinds(v).find("wal-header:" + archive + "/000000010000000000000002"), std::string::npos) << Kinds(v);
  WriteFile(archive + "/000000010000000000000002", Segment(1, 2, kSeg));
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "wal-missing:000000010000000000000003");
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_NE(v.findings[0].detail.find("segments 000000010000000000000003 through 000000010000000000000004 (2)"),
            std::string::npos)
      << v.findings[0].detail;
  EXPECT_EQ(v.wal.segments_required, 3u);
  EXPECT_EQ(v.wal.segments_missing, 2u);
  WriteFile(archive + "/000000010000000000000003", Segment(1, 3, kSeg));
  WriteFile(archive + "/000000010000000000000004", Segment(1, 4, 8192));  // written up to 0/4002000
  v = Verify(o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
  EXPECT_EQ(v.wal.last_segment, "000000010000000000000004");
  // A timeline switch at 0/3800000 to timeline 2: segment 3 is read from
  // timeline 2's file (a copy of timeline 1's up to the switch), then 4.
  WriteFile(archive + "/00000002.history", "1\t0/3800000\tno recovery target specified\n");
  WriteFile(archive + "/000000020000000000000003", Segment(1, 3, kSeg));
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "wal-missing:000000020000000000000004");
  WriteFile(archive + "/000000020000000000000004", Segment(2, 4, 8192));
  v = Verify(o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
  EXPECT_EQ((v.wal.timelines), (std::vector<uint32_t>{1, 2}));
  // The latest timeline branched off before the backup ended.
  WriteFile(archive + "/00000003.history", "1\t0/2000050\tbefore the backup's end\n");
  v = Verify(o);
  EXPECT_NE(Kinds(v).find("wal-timeline:" + archive + "/00000003.history"), std::string::npos) << Kinds(v);
  // A page of a timeline-1 segment claims timeline 2.
  fs::remove(archive + "/00000003.history");
  std::string seg = Segment(1, 2, 1 << 20);
  const uint32_t two = 2;
  std::memcpy(&seg[4], &two, 4);
  WriteFile(archive + "/000000010000000000000002", seg);
  o.until_lsn.reset();
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "wal-timeline:" + archive + "/000000010000000000000002");
  o.skip_wal = true;
  EXPECT_TRUE(Verify(o).outcome().Verified());
}

TEST_F(VerifyBackupTest, ChecksumSidecar) {
  WriteManifest(dir_, "CRC32C");
  const std::string sidecar = dir_ + "/SHA256SUMS";
  WriteFile(sidecar, Digest("SHA256", "15\n") + "  PG_VERSION\n");
  VerifyBackupOptions o;
  o.checksums = sidecar;
  BackupVerification v = Verify(o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);  // the sidecar inside the backup is not an extra file
  ASSERT_TRUE(v.checksums);
  EXPECT_TRUE(v.checksums->AllOk());
  WriteFile(sidecar, Digest("SHA256", "16\n") + "  PG_VERSION\n" + Digest("SHA256", "") + "  gone\n");
  v = Verify(o);
  EXPECT_EQ(Kinds(v), "sidecar:" + dir_ + "/PG_VERSION sidecar:" + dir_ + "/gone");
}

TEST_F(VerifyBackupTest, Errors) {
  WriteManifest(dir_, "CRC32C");
  VerifyBackupOptions o;
  EXPECT_EQ(VerifyBackup(root_ + "/nope", o).status().code(), StatusCode::kIoError);
  EXPECT_EQ(VerifyBackup(dir_ + "/PG_VERSION", o).status().code(), StatusCode::kInvalidArgument);
  fs::create_directories(root_ + "/empty");
  EXPECT_EQ(VerifyBackup(root_ + "/empty", o).status().code(), StatusCode::kUnsupported);
  o.until_lsn = "later";
  EXPECT_EQ(VerifyBackup(dir_, o).status().code(), StatusCode::kInvalidArgument);
  o.until_lsn.reset();
  o.wal_archives = {root_ + "/no_archive"};
  EXPECT_EQ(VerifyBackup(dir_, o).status().code(), StatusCode::kInvalidArgument);
  o.wal_archives.clear();
  o.checksums = root_ + "/no_sidecar";
  EXPECT_EQ(VerifyBackup(dir_, o).status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace vouch
