// verify-backup against real pg_basebackup output, with pg_verifybackup (the
// reference) run on the same directories: plain backups with CRC32C, SHA256
// and hex-encoded paths, tar backups (-Ft, -Ft -z, with a tablespace), the
// damage matrix of pg_verifybackup's t/003_corruption.pl and t/007_wal.pl,
// the manifest's own damage, a corrupt data page, and WAL in an archive
// through a PITR target: a missing segment, a segment of another cluster, a
// garbled header, a wrong timeline. Wherever both tools run, they agree:
// both pass or both fail, and vouch's finding names the file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "render/backup.h"
#include "support/backup_findings.h"
#include "support/pg_test_env.h"
#include "support/test_files.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/hashing/hex.h"
#include "vouch/readers/pg_control.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/wal.h"

namespace vouch {
using cli::BackupText;
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

// Copies of a backup share its files through hard links (Copy): WriteFile
// replaces a file, never writes into it, or a damage would reach the original.
using testing::Kinds;
using testing::WriteFile;

bool Has(const BackupVerification& v, const std::string& kind, const std::string& path_part) {
  for (const auto& f : v.findings) {
    if (FindingKindName(f.kind) == kind && f.subject.find(path_part) != std::string::npos) return true;
  }
  return false;
}

class BackupPg : public testing::PreparedTest<BackupPg> {
 protected:
  friend class testing::PreparedTest<BackupPg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_bb", 0.002, 7, /*tricky=*/false);
    dir_ = testing::MakeTempDir("vouch_bb");
    const std::string runas = testing::TestPg().vars.at("PG_RUNAS");
    ts_ = dir_ + "/ts_source";
    ts_name_ = "vouch_bb_ts_" + std::to_string(getpid());
    auto r = RunCommand("chmod 755 " + dir_ + " && mkdir " + ts_ + " && chown " + runas + " " + ts_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // A user tablespace, as t/003_corruption.pl has, to damage its files too.
    r = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db_ + " -c \"CREATE TABLESPACE " + ts_name_ + " LOCATION '" +
                   ts_ + "'\" -c 'CREATE TABLE in_ts (a int) TABLESPACE " + ts_name_ +
                   "' -c 'INSERT INTO in_ts SELECT generate_series(1, 5000)' -c CHECKPOINT");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto backup = [](const std::string& name, const std::string& flags) {
      const std::string d = dir_ + "/" + name;
      auto b = RunCommand("pg_basebackup -D " + d + " --no-sync -c fast " + flags + " -T " + ts_ + "=" + d + "_ts");
      ASSERT_EQ(b.exit_code, 0) << name << ": " << b.err;
    };
    backup("crc", "-Fp -X fetch --manifest-checksums=CRC32C");
    backup("sha", "-Fp -X stream --manifest-checksums=SHA256");
    backup("encoded", "-Fp -X fetch --manifest-force-encode");
    backup("tar", "-Ft -X fetch");
    backup("tarz", "-Ft -z -X stream --manifest-checksums=SHA256");
    // Last, so that no later checkpoint recycles its WAL: a backup whose WAL
    // continues in an archive through three WAL switches.
    backup("walb", "-Fp -X fetch");
    r = RunCommand("psql -X -At -v ON_ERROR_STOP=1 -d " + db_ +
                   " -c 'CREATE TABLE walgen AS SELECT g, md5(g::text) FROM generate_series(1, 40000) g' -c 'SELECT "
                   "pg_switch_wal()' -c 'INSERT INTO walgen SELECT g, md5(g::text) FROM generate_series(1, 40000) g' "
                   "-c 'SELECT pg_switch_wal()' -c 'INSERT INTO walgen SELECT 1, md5(g::text) FROM generate_series(1, "
                   "40000) g' -c 'SELECT pg_switch_wal()'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    until_ = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    while (!until_.empty() && until_.back() == '\n') until_.pop_back();
    ASSERT_TRUE(ParseLsn(until_)) << r.out;
    // The WAL archive: the server's segments from the backup's end on.
    auto v = VerifyBackup(dir_ + "/walb", {});
    ASSERT_TRUE(v.ok()) << v.status().message();
    ASSERT_TRUE(v->outcome().Verified()) << Kinds(*v);
    archive_ = dir_ + "/archive";
    fs::create_directories(archive_);
    const std::string server_wal = testing::TestPg().vars.at("PG_DATADIR") + "/pg_wal/";
    const uint32_t seg = 16u << 20;
    for (uint64_t s = v->wal.end_lsn / seg; s <= *ParseLsn(until_) / seg; ++s) {
      const std::string name = WalSegmentFileName(1, s, seg);
      fs::copy_file(server_wal + name, archive_ + "/" + name);
      archived_.push_back(name);
    }
    ASSERT_GE(archived_.size(), 4u);
  }

  static void TearDownTestSuite() {
    std::cout << "[ matrix   ] " << agreed_ << " damaged backups: vouch and pg_verifybackup both fail\n";
    testing::DropDatabase(db_);
    RunCommand("psql -X -q -c 'DROP TABLESPACE IF EXISTS " + ts_name_ + "'");
    RunCommand("rm -rf " + dir_);
  }

  static BackupVerification Verify(const std::string& d, VerifyBackupOptions o = {}) {
    if (o.jobs == 0) o.jobs = 2;
    auto v = VerifyBackup(d, o);
    EXPECT_TRUE(v.ok()) << d << ": " << v.status().message();
    return v.ok() ? std::move(v).value() : BackupVerification{};
  }

  static testing::CmdResult PgVerifybackup(const std::string& d, const std::string& flags = "") {
    return RunCommand("pg_verifybackup " + flags + " " + d);
  }

  // A copy of backup `name` (tablespace links resolved into directories),
  // its files hard links to the original's: damage goes through WriteFile.
  static std::string Copy(const std::string& name, const std::string& as) {
    const std::string to = dir_ + "/" + as;
    auto r = RunCommand("rm -rf " + to + " && cp -alL " + dir_ + "/" + name + " " + to);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return to;
  }

  // The first entry of d/pg_tblspc/OID/PG_*/DBOID.
  static std::string TablespaceDbDir(const std::string& d) {
    for (const auto& oid : fs::directory_iterator(d + "/pg_tblspc")) {
      for (const auto& ver : fs::directory_iterator(oid.path())) {
        for (const auto& db : fs::directory_iterator(ver.path())) return fs::relative(db.path(), d).string();
      }
    }
    ADD_FAILURE() << "no tablespace directory in " << d;
    return "";
  }

  static std::string db_, dir_, ts_, ts_name_, until_, archive_;
  static std::vector<std::string> archived_;
  static int agreed_;
};
std::string BackupPg::db_, BackupPg::dir_, BackupPg::ts_, BackupPg::ts_name_, BackupPg::until_, BackupPg::archive_;
std::vector<std::string> BackupPg::archived_;
int BackupPg::agreed_ = 0;

TEST_F(BackupPg, IntactBackupsVerifyAsWithPgVerifybackup) {
  for (const char* name : {"crc", "sha", "encoded", "walb"}) {
    SCOPED_TRACE(name);
    const std::string d = dir_ + "/" + name;
    auto ref = PgVerifybackup(d);
    EXPECT_EQ(ref.exit_code, 0) << ref.err;
    VerifyBackupOptions o;
    o.page_checksums = true;
    BackupVerification v = Verify(d, o);
    EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
    EXPECT_EQ(v.format, "plain");
    EXPECT_EQ(v.pg_major, testing::TestPg().major);
    EXPECT_GT(v.files_listed, 900u);
    EXPECT_EQ(v.files_verified + v.files_exempt, v.files_listed);
    EXPECT_TRUE(v.data_checksums) << "the test cluster runs with data checksums (scripts/pgcluster.sh initdb -k)";
    EXPECT_GT(v.pages_checked, 1000u);
    EXPECT_EQ(v.pages_bad, 0u);
    EXPECT_GE(v.wal.segments_verified, 1u);
    EXPECT_EQ(v.wal.segments_verified, v.wal.segments_required);
    const std::string text = BackupText(v);
    EXPECT_NE(text.find("WAL segments " + v.wal.first_segment + " through " + v.wal.last_segment), std::string::npos)
        << text;
  }
  BackupVerification sha = Verify(dir_ + "/sha");
  EXPECT_EQ(sha.checksum_algorithms, std::vector<std::string>{"SHA256"});
  BackupVerification crc = Verify(dir_ + "/crc");
  EXPECT_EQ(crc.checksum_algorithms, std::vector<std::string>{"CRC32C"});
  // pg_controldata is the reference for pg_control's system identifier.
  auto cd = RunCommand("pg_controldata " + dir_ + "/crc | sed -n 's/^Database system identifier: *//p'");
  ASSERT_EQ(cd.exit_code, 0);
  EXPECT_EQ(std::to_string(crc.system_identifier.value_or(0)) + "\n", cd.out);
  auto ck = RunCommand("pg_controldata " + dir_ + "/crc | sed -n 's/^Data page checksum version: *//p'");
  EXPECT_EQ(ck.out, "1\n");
}

// global/pg_control as the server's own pg_controldata reads it, for each
// layout of the matrix (1300, 1700, 1800): every field vouch uses.
TEST_F(BackupPg, ControlFileAgreesWithPgControldata) {
  const std::string d = dir_ + "/crc";
  auto c = ParseControlFile(testing::ReadFileBytes(d + "/global/pg_control"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->CrcOk());
  auto r = RunCommand("pg_controldata " + d);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> ref;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    ref[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
  }
  auto lsn = [](uint64_t x) { return FormatLsn(x); };
  EXPECT_EQ(ref["pg_control version number"], std::to_string(c->pg_control_version));
  EXPECT_EQ(ref["Catalog version number"], std::to_string(c->catalog_version));
  EXPECT_EQ(ref["Database system identifier"], std::to_string(c->system_identifier));
  EXPECT_EQ(ref["Latest checkpoint location"], lsn(c->checkpoint_lsn));
  EXPECT_EQ(ref["Latest checkpoint's REDO location"], lsn(c->redo_lsn));
  EXPECT_EQ(ref["Latest checkpoint's TimeLineID"], std::to_string(c->timeline));
  EXPECT_EQ(ref["Database block size"], std::to_string(c->blcksz));
  EXPECT_EQ(ref["Blocks per segment of large relation"], std::to_string(c->relseg_size));
  EXPECT_EQ(ref["WAL block size"], std::to_string(c->xlog_blcksz));
  EXPECT_EQ(ref["Bytes per WAL segment"], std::to_string(c->xlog_seg_size));
  EXPECT_EQ(ref["Data page checksum version"], std::to_string(c->data_checksum_version));
  // A backup's pg_control says "in production" (DBState 6).
  EXPECT_EQ(ref["Database cluster state"], "in production");
  EXPECT_EQ(c->state, 6u);
  if (testing::TestPg().major >= 18) {
    ASSERT_TRUE(c->default_char_signedness.has_value());
    EXPECT_EQ(ref["Default char data signedness"], *c->default_char_signedness ? "signed" : "unsigned");
  } else {
    EXPECT_FALSE(c->default_char_signedness.has_value());
  }
  EXPECT_EQ(MajorOfControlVersion(c->pg_control_version) != 0 ? MajorOfControlVersion(c->pg_control_version)
                                                              : MajorOfCatalogVersion(c->catalog_version),
            testing::TestPg().major);
}

// Tar backups (PostgreSQL 15's pg_verifybackup cannot read them): verified
// member by member; the same backup extracted is what pg_verifybackup
// verifies.
TEST_F(BackupPg, TarBackups) {
  for (const char* name : {"tar", "tarz"}) {
    SCOPED_TRACE(name);
    VerifyBackupOptions o;
    o.page_checksums = true;
    BackupVerification v = Verify(dir_ + "/" + name, o);
    EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
    EXPECT_EQ(v.format, "tar");
    EXPECT_EQ(v.archives.size(), std::string(name) == "tar" ? 2u : 3u);  // base, OID (, pg_wal)
    EXPECT_EQ(v.files_verified + v.files_exempt, v.files_listed);
    EXPECT_GT(v.pages_checked, 1000u);
    EXPECT_EQ(v.wal.segments_verified, v.wal.segments_required);
    EXPECT_GE(v.wal.segments_required, 1u);
  }
  // Extracted: pg_verifybackup agrees.
  const std::string x = dir_ + "/tar_extracted";
  auto r = RunCommand(
      "mkdir -p " + x + " && tar xf " + dir_ + "/tar/base.tar -C " + x + " && cd " + dir_ + "/tar && find " + x +
      "/pg_tblspc -mindepth 1 -maxdepth 1 -type l -delete && for t in [0-9]*.tar; "
      "do o=${t%.tar}; mkdir -p " +
      x + "/pg_tblspc/$o && tar xf $t -C " + x + "/pg_tblspc/$o; done && cp backup_manifest " + x + "/");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PgVerifybackup(x).exit_code, 0) << PgVerifybackup(x).err;
  EXPECT_TRUE(Verify(x).outcome().Verified());
  // PostgreSQL 18's pg_verifybackup reads tar backups itself (without WAL
  // parsing, -n): the reference on the tar files as they are.
  if (testing::TestPg().major >= 18) {
    for (const char* name : {"tar", "tarz"}) {
      auto ref = PgVerifybackup(dir_ + "/" + name, "-n");
      EXPECT_EQ(ref.exit_code, 0) << name << ": " << ref.err;
    }
  }

  // Damage inside the tar: one byte of PG_VERSION's data; a truncated .tar.gz;
  // a missing tablespace tar; a sidecar of the tar files.
  const std::string t = Copy("tar", "tar_damaged");
  std::string bytes = testing::ReadFileBytes(t + "/base.tar");
  size_t at = 0;
  for (size_t p = 0; p + 512 <= bytes.size(); p += 512) {
    if (std::strncmp(bytes.data() + p, "PG_VERSION", 11) == 0) {
      at = p + 512;
      break;
    }
  }
  ASSERT_NE(at, 0u);
  const std::string major = std::to_string(testing::TestPg().major);
  ASSERT_EQ(bytes.substr(at, 3), major + "\n");
  bytes[at + 1] = major[1] == '9' ? '0' : static_cast<char>(major[1] + 1);
  WriteFile(t + "/base.tar", bytes);
  BackupVerification v = Verify(t);
  EXPECT_EQ(Kinds(v), "checksum:PG_VERSION");
  if (testing::TestPg().major >= 18) {
    EXPECT_NE(PgVerifybackup(t, "-n").exit_code, 0);
  }

  const std::string tz = Copy("tarz", "tarz_damaged");
  std::string gz = testing::ReadFileBytes(tz + "/base.tar.gz");
  WriteFile(tz + "/base.tar.gz", gz.substr(0, gz.size() / 2));
  v = Verify(tz);
  EXPECT_TRUE(Has(v, "damaged", "base.tar.gz")) << Kinds(v);
  EXPECT_FALSE(v.outcome().Verified());

  const std::string tm = Copy("tar", "tar_no_ts");
  for (const auto& e : fs::directory_iterator(tm)) {
    if (e.path().filename().string() != "base.tar" && e.path().extension() == ".tar") fs::remove(e.path());
  }
  v = Verify(tm);
  EXPECT_TRUE(Has(v, "missing", "pg_tblspc/")) << Kinds(v);

  const std::string ts = Copy("tar", "tar_sums");
  ASSERT_EQ(RunCommand("cd " + ts + " && sha256sum *.tar > SHA256SUMS").exit_code, 0);
  VerifyBackupOptions o;
  o.checksums = ts + "/SHA256SUMS";
  v = Verify(ts, o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);
  ASSERT_TRUE(v.checksums);
  EXPECT_EQ(v.checksums->results.size(), 2u);
  bytes = testing::ReadFileBytes(ts + "/base.tar");
  WriteFile(ts + "/base.tar", bytes + std::string(512, '\0'));  // still a valid tar, another file
  v = Verify(ts, o);
  EXPECT_EQ(Kinds(v), "sidecar:" + ts + "/base.tar");
}

// t/003_corruption.pl (without the permission cases: the tests run as
// root), t/007_wal.pl's garbled WAL, and damage to the manifest itself.
TEST_F(BackupPg, CorruptionMatrixAgreesWithPgVerifybackup) {
  struct Case {
    std::string name;
    std::function<void(const std::string&)> damage;
    std::string kind, path;  // a finding vouch must report
  };
  auto append = [](const std::string& p, const std::string& s) { WriteFile(p, testing::ReadFileBytes(p) + s); };
  const std::vector<Case> cases = {
      {"extra_file", [](const std::string& d) { WriteFile(d + "/extra_file", "This is an extra file.\n"); }, "extra",
       "extra_file"},
      {"extra_tablespace_file",
       [](const std::string& d) { WriteFile(d + "/" + TablespaceDbDir(d) + "/extra_ts_file", "extra\n"); }, "extra",
       "extra_ts_file"},
      {"missing_file", [](const std::string& d) { fs::remove(d + "/pg_xact/0000"); }, "missing", "pg_xact/0000"},
      {"missing_tablespace",
       [](const std::string& d) {
         for (const auto& e : fs::directory_iterator(d + "/pg_tblspc")) fs::remove_all(e.path());
       },
       "missing", "pg_tblspc/"},
      {"append_to_file", [&](const std::string& d) { append(d + "/global/pg_control", "x"); }, "size",
       "global/pg_control"},
      {"truncate_file", [](const std::string& d) { WriteFile(d + "/global/pg_control", ""); }, "size",
       "global/pg_control"},
      {"replace_file", [](const std::string& d) { WriteFile(d + "/PG_VERSION", "qqq"); }, "checksum", "PG_VERSION"},
      {"bad_manifest", [&](const std::string& d) { append(d + "/backup_manifest", "\n"); }, "manifest",
       "backup_manifest"},
      {"one_bit_in_a_file",
       [](const std::string& d) {
         std::string b = testing::ReadFileBytes(d + "/global/pg_control");
         b[4000] ^= 0x04;
         WriteFile(d + "/global/pg_control", b);
       },
       "checksum", "global/pg_control"},
      {"manifest_checksum_wrong",
       [](const std::string& d) {
         std::string m = testing::ReadFileBytes(d + "/backup_manifest");
         size_t p = m.find("\"Manifest-Checksum\": \"") + 22;
         m[p] = m[p] == '0' ? '1' : '0';
         WriteFile(d + "/backup_manifest", m);
       },
       "manifest", "backup_manifest"},
      {"manifest_truncated",
       [](const std::string& d) {
         std::string m = testing::ReadFileBytes(d + "/backup_manifest");
         WriteFile(d + "/backup_manifest", m.substr(0, m.size() / 3));
       },
       "manifest", "backup_manifest"},
      {"manifest_malformed",
       [](const std::string& d) {
         std::string m = testing::ReadFileBytes(d + "/backup_manifest");
         m.replace(m.find("\"Files\""), 7, "\"Filez\"");
         WriteFile(d + "/backup_manifest", m);
       },
       "manifest", "backup_manifest"},
      {"missing_pg_wal", [](const std::string& d) { fs::remove_all(d + "/pg_wal"); }, "wal-missing", "00000001"},
      {"garbled_wal",
       [](const std::string& d) {
         for (const auto& e : fs::directory_iterator(d + "/pg_wal")) {
           if (e.is_regular_file() && e.path().filename().string().size() == 24) {
             WriteFile(e.path().string(), std::string(fs::file_size(e.path()), 'w'));
             break;
           }
         }
       },
       "wal-header", "pg_wal/"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string d = Copy("crc", "damaged");
    c.damage(d);
    auto ref = PgVerifybackup(d);
    EXPECT_NE(ref.exit_code, 0) << "pg_verifybackup passed a damaged backup?";
    BackupVerification v = Verify(d);
    EXPECT_FALSE(v.outcome().Verified()) << "pg_verifybackup: " << ref.err;
    EXPECT_TRUE(Has(v, c.kind, c.path)) << Kinds(v) << "\npg_verifybackup: " << ref.err;
    if (ref.exit_code != 0 && !v.outcome().Verified()) ++agreed_;
  }
  // t/007_wal.pl: with pg_wal moved away and named with -w / as an archive,
  // both pass again.
  const std::string d = Copy("crc", "relocated");
  fs::rename(d + "/pg_wal", dir_ + "/relocated_pg_wal");
  EXPECT_EQ(PgVerifybackup(d, "-w " + dir_ + "/relocated_pg_wal").exit_code, 0);
  VerifyBackupOptions o;
  o.wal_archives = {dir_ + "/relocated_pg_wal"};
  EXPECT_TRUE(Verify(d, o).outcome().Verified());
  EXPECT_EQ(PgVerifybackup(d, "-n").exit_code, 0);
  o.wal_archives.clear();
  o.skip_wal = true;
  EXPECT_TRUE(Verify(d, o).outcome().Verified());
  // No damage reached the original through a hard link.
  EXPECT_TRUE(Verify(dir_ + "/crc").outcome().Verified()) << Kinds(Verify(dir_ + "/crc"));
}

// One byte in a data page: the manifest checksum and the page checksum both
// name the file, the page finding its block and both checksums. The page
// checksum computation matches PostgreSQL's (pageinspect) on real pages.
TEST_F(BackupPg, CorruptDataPage) {
  const std::string rel = testing::PsqlScalar(db_, "SELECT pg_relation_filepath('tool_calls')");
  ASSERT_EQ(rel.rfind("base/", 0), 0u) << rel;
  const std::string d = Copy("crc", "page_damaged");
  std::string b = testing::ReadFileBytes(d + "/" + rel);
  ASSERT_GE(b.size(), 2 * kPgBlockSize);
  ASSERT_FALSE(PgPageIsNew(b.data() + kPgBlockSize));
  b[kPgBlockSize + 6000] ^= 0x20;  // block 1
  WriteFile(d + "/" + rel, b);
  VerifyBackupOptions o;
  o.page_checksums = true;
  BackupVerification v = Verify(d, o);
  EXPECT_EQ(Kinds(v), "checksum:" + rel + " page:" + rel);
  ASSERT_EQ(v.findings.size(), 2u);
  EXPECT_NE(v.findings[1].detail.find("block 1: checksum "), std::string::npos) << v.findings[1].detail;
  EXPECT_NE(v.findings[1].detail.find(", expected "), std::string::npos) << v.findings[1].detail;
  EXPECT_EQ(v.pages_bad, 1u);
  EXPECT_NE(PgVerifybackup(d).exit_code, 0);

  // Our checksum of live pages = pageinspect's page_checksum().
  testing::PsqlScalar(db_, "CREATE EXTENSION IF NOT EXISTS pageinspect");
  const std::string rows = testing::PsqlScalar(
      db_,
      "SELECT string_agg(b || ' ' || page_checksum(get_raw_page('tool_calls', b), b) || ' ' || "
      "encode(get_raw_page('tool_calls', b), 'hex'), E'\\n' ORDER BY b) FROM generate_series(0, least(5, "
      "pg_relation_size('tool_calls') / 8192 - 1)::int) b");
  int compared = 0;
  std::istringstream in(rows);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    uint32_t block = 0;
    int sum = 0;
    std::string hex;
    f >> block >> sum >> hex;
    auto page = HexDecode(hex);
    ASSERT_TRUE(page && page->size() == kPgBlockSize);
    // (pd_checksum of a page in shared buffers is only set when it is written out.)
    EXPECT_EQ(PgPageChecksum(page->data(), block), static_cast<uint16_t>(sum)) << "block " << block;
    ++compared;
  }
  EXPECT_GE(compared, 2);
}

// WAL beyond the backup, in an archive, through a PITR target LSN.
TEST_F(BackupPg, WalArchiveThroughTarget) {
  VerifyBackupOptions o;
  o.wal_archives = {archive_};
  o.until_lsn = until_;
  const std::string d = dir_ + "/walb";
  BackupVerification v = Verify(d, o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v) << "\n" << BackupText(v);
  EXPECT_EQ(v.wal.segments_verified, v.wal.segments_required);
  EXPECT_EQ(v.wal.last_segment, archived_.back());
  EXPECT_EQ(v.wal.timelines, std::vector<uint32_t>{1});

  // Compressed segments as pg_receivewal and archive_command scripts write.
  const std::string a = dir_ + "/archive_compressed";
  ASSERT_EQ(RunCommand("rm -rf " + a + " && cp -a " + archive_ + " " + a + " && gzip " + a + "/" + archived_[1] +
                       " && zstd -q --rm " + a + "/" + archived_[2] + " && lz4 -q " + a + "/" + archived_[3] + " " + a +
                       "/" + archived_[3] + ".lz4 && rm " + a + "/" + archived_[3])
                .exit_code,
            0);
  o.wal_archives = {a};
  v = Verify(d, o);
  EXPECT_TRUE(v.outcome().Verified()) << Kinds(v);

  struct Case {
    std::string name;
    std::function<void(const std::string& seg)> damage;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {"missing segment", [](const std::string& seg) { fs::remove(seg); }, "wal-missing"},
      {"another cluster's segment (xlp_sysid)",
       [](const std::string& seg) {
         std::string b = testing::ReadFileBytes(seg);
         b[24] ^= 0x5a;
         WriteFile(seg, b);
       },
       "wal-sysid"},
      {"garbled long header (xlp_pageaddr)",
       [](const std::string& seg) {
         std::string b = testing::ReadFileBytes(seg);
         b[10] ^= 0x01;
         WriteFile(seg, b);
       },
       "wal-header"},
      {"a page of timeline 2 in a timeline-1 file",
       [](const std::string& seg) {
         std::string b = testing::ReadFileBytes(seg);
         b[8192 * 3 + 4] = 2;
         WriteFile(seg, b);
       },
       "wal-timeline"},
      {"truncated segment",
       [](const std::string& seg) {
         std::string b = testing::ReadFileBytes(seg);
         WriteFile(seg, b.substr(0, b.size() / 2));
       },
       "wal-truncated"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string damaged = dir_ + "/archive_damaged";
    ASSERT_EQ(RunCommand("rm -rf " + damaged + " && cp -a " + archive_ + " " + damaged).exit_code, 0);
    const std::string victim = archived_[2];
    c.damage(damaged + "/" + victim);
    o.wal_archives = {damaged};
    v = Verify(d, o);
    EXPECT_FALSE(v.outcome().Verified());
    EXPECT_TRUE(Has(v, c.kind, victim)) << Kinds(v);
    EXPECT_EQ(v.findings.size(), 1u) << Kinds(v);
  }

  // Timeline history: a timeline 2 that branched off timeline 1 before this
  // backup ended is the latest: recovery to 'latest' cannot use the backup.
  const std::string h = dir_ + "/archive_tli";
  ASSERT_EQ(RunCommand("rm -rf " + h + " && cp -a " + archive_ + " " + h).exit_code, 0);
  WriteFile(h + "/00000002.history", "1\t0/1000000\tno recovery target specified\n");
  o.wal_archives = {h};
  v = Verify(d, o);
  EXPECT_TRUE(Has(v, "wal-timeline", "00000002.history")) << Kinds(v);
  WriteFile(h + "/00000002.history", "garbage\n");
  v = Verify(d, o);
  EXPECT_TRUE(Has(v, "wal-timeline", "00000002.history")) << Kinds(v);
}

}  // namespace
}  // namespace vouch
