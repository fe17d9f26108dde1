// vouch verify-backup --barman against real Barman backups (Debian's barman),
// on a cluster of its own whose archive_command drops every WAL segment into
// three Barman servers' incoming directories:
//   - "pg": backup_method=postgres (pg_basebackup, plain, backup_manifest),
//     its WAL compressed with bzip2;
//   - "rs": backup_method=rsync (no manifest; ssh is a local stand-in),
//     its WAL compressed with gzip;
//   - "tar": backup_method=postgres with backup_compression=gzip (base.tar.gz).
// Barman stores compressed WAL under the segment's own name, no suffix. The
// cluster has a tablespace, which an rsync backup keeps outside data/.
// Each backup verifies, pages and WAL through a later LSN too, as `barman
// check-backup` says; then each damage is named:
//   - a bit flip inside a compressed file (base.tar.gz, a bzip2 segment);
//   - a bit flip in a data page of the rsync backup, which only page
//     checksums catch (check-backup still passes it);
//   - a WAL segment whose header names another system identifier;
//   - a WAL segment deleted from the middle of the range;
//   - a truncated backup.info (exit 1, the file and line named), a backup
//     Barman did not finish, a backup ID that is not there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "support/pg_test_env.h"
#include "support/test_files.h"

namespace vouch {
namespace {

using testing::RunCommand;

class Barman : public testing::PreparedTest<Barman> {
 protected:
  friend class testing::PreparedTest<Barman>;
  static void Prepare() {
    vouch_ = testing::BinPath("VOUCH_BIN");
    ASSERT_EQ(RunCommand("command -v barman && command -v rsync").exit_code, 0)
        << "barman or rsync is not installed (install-deps.sh)";
    dir_ = testing::MakeTempDir("vouch_barman");
    const std::string started = pg_.Start(dir_);
    ASSERT_EQ(started, "");
    const std::string runas = geteuid() == 0 ? pg_.Env("PG_RUNAS") : RunCommand("id -un").out;
    const std::string user = runas.substr(0, runas.find('\n'));
    const std::string conninfo = "host=127.0.0.1 port=" + pg_.Env("PGPORT") + " user=vouch";
    const std::string server =
        "conninfo = " + conninfo + " dbname=postgres\npath_prefix = " + pg_.Env("PG_BINDIR") + "\narchiver = on\n";
    const std::string conf =
        "[barman]\nbarman_home = " + dir_ + "/barman\nbarman_user = " + user + "\nlog_file = " + dir_ +
        "/barman.log\ncompression = gzip\n\n"
        "[pg]\ndescription = postgres method, bzip2 WAL\n" +
        server + "streaming_conninfo = " + conninfo +
        "\nbackup_method = postgres\ncompression = bzip2\n\n"
        "[rs]\ndescription = rsync method\n" +
        server + "ssh_command = " + dir_ +
        "/fakessh postgres@localhost\nbackup_method = rsync\nbackup_options = concurrent_backup\n\n"
        "[tar]\ndescription = postgres method, tar.gz\n" +
        server + "streaming_conninfo = " + conninfo +
        "\nbackup_method = postgres\nbackup_compression = gzip\nbackup_compression_format = tar\n";
    // ssh to this machine, without sshd: the options and the host dropped,
    // the command run here (rsync's remote end included).
    const std::string fakessh =
        "#!/bin/sh\nhost=\nwhile [ $# -gt 0 ]; do case \"$1\" in -o|-p|-l|-i) shift 2;; -*) shift;; *) if [ -z "
        "\"$host\" ]; then host=$1; shift; else break; fi;; esac; done\nexec sh -c \"$*\"\n";
    testing::WriteFile(dir_ + "/barman.conf", conf);
    testing::WriteFile(dir_ + "/fakessh", fakessh);
    // Each server's incoming/ (Barman's default incoming_wals_directory),
    // made here: archive_command copies into it from the first segment on.
    ASSERT_EQ(RunCommand("chmod 755 " + dir_ + " " + dir_ + "/fakessh && mkdir -p " + dir_ + "/barman/pg/incoming " +
                         dir_ + "/barman/rs/incoming " + dir_ + "/barman/tar/incoming" +
                         (geteuid() == 0 ? " && chown -R " + user + " " + dir_ : ""))
                  .exit_code,
              0);
    barman_ =
        (geteuid() == 0 ? "runuser -u " + user + " -- " : std::string()) + "barman -q -c " + dir_ + "/barman.conf ";
    // Barman's copies take Python multiprocessing's locks, which live in
    // /dev/shm. A chroot whose /dev is a plain bind mount has no writable
    // one: there each Barman command gets a private tmpfs, in a mount
    // namespace of its own (nothing changes outside it).
    if (geteuid() == 0 && RunCommand("test -d /dev/shm -a -w /dev/shm -a -k /dev/shm").exit_code != 0) {
      barman_ = "unshare -m --propagation unchanged sh -c 'mount --make-rprivate /dev && mount -t tmpfs -o "
                "mode=1777 tmpfs /dev/shm && exec \"$0\" \"$@\"' " +
                barman_;
    }
    std::string archive;
    for (const char* s : {"pg", "rs", "tar"}) {
      archive += std::string(archive.empty() ? "" : " && ") + "cp %p " + dir_ + "/barman/" + s + "/incoming/%f";
    }
    ASSERT_EQ(pg_.Sql("postgres", "ALTER SYSTEM SET archive_command = '" + archive + "'"), "");
    ASSERT_EQ(pg_.Sql("postgres", "SELECT pg_reload_conf()"), "");
    ASSERT_EQ(pg_.Sql("postgres",
                      "CREATE TABLE t (id integer PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM "
                      "generate_series(1, 20000) g"),
              "");
    // A tablespace: the postgres method links it from pg_tblspc, the rsync
    // method keeps it beside data/ (base/ID/OID) with no link.
    ASSERT_EQ(
        RunCommand("mkdir -m 700 " + dir_ + "/ts" + (geteuid() == 0 ? " && chown " + user + " " + dir_ + "/ts" : ""))
            .exit_code,
        0);
    ASSERT_EQ(pg_.Sql("postgres", "CREATE TABLESPACE ts LOCATION '" + dir_ + "/ts'"), "");
    ASSERT_EQ(pg_.Sql("postgres",
                      "CREATE TABLE tt TABLESPACE ts AS SELECT g AS id, md5(g::text) AS v FROM "
                      "generate_series(1, 5000) g"),
              "");
    ts_path_ = pg_.Scalar("SELECT pg_relation_filepath('tt')");
    for (const char* s : {"pg", "rs", "tar"}) {
      // Barman backs up only once its archiver has seen a segment.
      auto wal = RunCommand(barman_ + "switch-wal --force --archive --archive-timeout 60 " + s);
      ASSERT_EQ(wal.exit_code, 0) << s << wal.out << wal.err;
      auto backup = RunCommand(barman_ + "backup --wait " + s);
      ASSERT_EQ(backup.exit_code, 0) << s << backup.out << backup.err;
      id_[s] = RunCommand("ls " + dir_ + "/barman/" + s + "/base | tail -1 | tr -d '\\n'").out;
      ASSERT_FALSE(id_[s].empty()) << s;
    }
    // WAL past the last backup: three segment switches, all archived.
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(pg_.Sql("postgres", "INSERT INTO t SELECT g, 'wal' FROM generate_series(30001 + " + std::to_string(i) +
                                        " * 1000, 30000 + " + std::to_string(i + 1) + " * 1000) g"),
                "");
      if (i == 2) until_ = pg_.Scalar("SELECT pg_current_wal_lsn()");
      ASSERT_EQ(pg_.Sql("postgres", "SELECT pg_switch_wal()"), "");
    }
    for (const char* s : {"pg", "rs", "tar"}) {
      auto wal = RunCommand(barman_ + "switch-wal --force --archive --archive-timeout 60 " + s);
      ASSERT_EQ(wal.exit_code, 0) << s << wal.out << wal.err;
    }
    file_path_ = pg_.Scalar("SELECT pg_relation_filepath('t')");
    // The source as the archive's end holds it: what a restore-test to
    // 'latest' must bring back.
    auto digest = RunCommand(vouch_ + " digest -q " + pg_.Uri("postgres") + " -o " + dir_ + "/final.json");
    ASSERT_EQ(digest.exit_code, 0) << digest.out << digest.err;
    ASSERT_EQ(RunCommand("mkdir -m 755 " + dir_ + "/scratch").exit_code, 0);
  }
  static void TearDownTestSuite() {
    if (dir_.empty()) return;
    pg_.Stop();
    RunCommand("rm -rf " + dir_);
  }

  // A copy of the Barman home to damage; its server's directory.
  static std::string Copy(const std::string& name, const std::string& server) {
    const std::string copy = dir_ + "/" + name;
    EXPECT_EQ(RunCommand("rm -rf " + copy + " && cp -a " + dir_ + "/barman " + copy).exit_code, 0);
    return copy + "/" + server;
  }
  static testing::CmdResult Vouch(const std::string& dir, const std::string& args = "") {
    return RunCommand(vouch_ + " verify-backup -q --barman " + dir + " " + args);
  }
  // What `barman check-backup` (the reference) says of a backup: its exit
  // status.
  static int CheckBackup(const std::string& server) {
    return RunCommand(barman_ + "check-backup " + server + " " + id_[server]).exit_code;
  }
  // Every segment name in a server's wals/, sorted.
  static std::string Segments(const std::string& server_dir) {
    return RunCommand("ls " + server_dir + "/wals/*/ | grep -E '^[0-9A-F]{24}$' | sort").out;
  }

  static testing::OwnCluster pg_;
  static std::string vouch_, dir_, barman_, until_, file_path_, ts_path_;
  static std::map<std::string, std::string> id_;  // server → its backup's ID
};
testing::OwnCluster Barman::pg_;
std::string Barman::vouch_, Barman::dir_, Barman::barman_, Barman::until_, Barman::file_path_, Barman::ts_path_;
std::map<std::string, std::string> Barman::id_;

TEST_F(Barman, EveryBackupVerifiesWithItsPagesAndWal) {
  for (const char* s : {"pg", "rs", "tar"}) {
    SCOPED_TRACE(s);
    EXPECT_EQ(CheckBackup(s), 0);
    auto r = Vouch(dir_ + "/barman/" + s, "--page-checksums --until " + until_);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Barman backup " + id_[s] + " of server " + s), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" pages checked, 0 bad"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("✅ WAL segments "), std::string::npos) << r.out;
    // One backup's own directory does as well as its server's.
    auto one = Vouch(dir_ + "/barman/" + s + "/base/" + id_[s], "--format json");
    EXPECT_EQ(one.exit_code, 0) << one.out << one.err;
  }
  auto rs = Vouch(dir_ + "/barman/rs");
  EXPECT_NE(rs.out.find("backup_manifest: none (Barman rsync-concurrent backup)"), std::string::npos) << rs.out;
  EXPECT_NE(rs.out.find(" pages checked"), std::string::npos) << "pages are checked without a manifest:\n" << rs.out;
  auto tar = Vouch(dir_ + "/barman/tar");
  // The tablespace's tar beside base.tar.gz.
  const std::string oid = ts_path_.substr(10, ts_path_.find('/', 10) - 10);
  EXPECT_NE(tar.out.find("tar files: " + oid + ".tar.gz base.tar.gz"), std::string::npos) << tar.out;
  // pg's segments are bzip2 streams under their plain names.
  const std::string seg = Segments(dir_ + "/barman/pg").substr(0, 24);
  EXPECT_EQ(RunCommand("head -c 3 " + dir_ + "/barman/pg/wals/" + seg.substr(0, 16) + "/" + seg).out, "BZh");
}

TEST_F(Barman, ABitFlipInACompressedFileIsNamed) {
  const std::string tar = Copy("flip", "tar");
  const std::string file = tar + "/base/" + id_["tar"] + "/data/base.tar.gz";
  ASSERT_TRUE(testing::FlipMiddleByte(file));
  auto r = Vouch(tar);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("damaged: base.tar.gz"), std::string::npos) << r.out;
  // A bzip2 segment the backup needs.
  const std::string pg = dir_ + "/flip/pg";
  const std::string seg = Segments(pg).substr(0, 24);
  const std::string wal = pg + "/wals/" + seg.substr(0, 16) + "/" + seg;
  ASSERT_TRUE(testing::FlipMiddleByte(wal));
  auto w = Vouch(pg);
  EXPECT_EQ(w.exit_code, 1) << w.out << w.err;
  EXPECT_NE(w.out.find(seg), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("bzip2"), std::string::npos) << w.out;
}

TEST_F(Barman, AFlippedPageOfAnRsyncBackupOnlyPageChecksumsCatch) {
  const std::string rs = Copy("page", "rs");
  const std::string file = rs + "/base/" + id_["rs"] + "/data/" + file_path_;
  // Byte 4000 of block 1: a tuple's data, not the page header.
  ASSERT_EQ(
      RunCommand("printf '\\001' | dd of=" + file + " bs=1 seek=$((8192 + 4000)) conv=notrunc status=none").exit_code,
      0);
  // And one of the tablespace's, which lies beside data/, not under it.
  ASSERT_EQ(ts_path_.rfind("pg_tblspc/", 0), 0u) << ts_path_;
  const std::string ts_file = rs + "/base/" + id_["rs"] + "/" + ts_path_.substr(10);
  ASSERT_EQ(RunCommand("printf '\\001' | dd of=" + ts_file + " bs=1 seek=4000 conv=notrunc status=none").exit_code, 0);
  auto r = Vouch(rs);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("page: " + file_path_), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("block 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("page: " + ts_path_ + ": block 0"), std::string::npos) << r.out;
}

TEST_F(Barman, AWalSegmentOfAnotherClusterIsNamed) {
  const std::string rs = Copy("sysid", "rs");
  // The backup's first segment (gzip, no suffix): its long header's system
  // identifier changed, compressed again under its name.
  const std::string seg = Segments(rs).substr(0, 24);
  const std::string wal = rs + "/wals/" + seg.substr(0, 16) + "/" + seg;
  ASSERT_EQ(RunCommand("set -e; gzip -dc < " + wal + " > " + dir_ + "/seg; printf '\\252' | dd of=" + dir_ +
                       "/seg bs=1 seek=24 conv=notrunc status=none; gzip -6 -n -c " + dir_ + "/seg > " + wal)
                .exit_code,
            0);
  auto r = Vouch(rs);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const size_t finding = r.out.find("wal-sysid: ");
  ASSERT_NE(finding, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(seg, finding), std::string::npos) << r.out;
}

TEST_F(Barman, AWalSegmentMissingInTheMiddleIsNamed) {
  const std::string rs = Copy("gap", "rs");
  const std::string list = Segments(rs);
  ASSERT_GE(list.size(), 3 * 25u) << list;
  const std::string middle = list.substr(25, 24);
  ASSERT_EQ(RunCommand("rm " + rs + "/wals/" + middle.substr(0, 16) + "/" + middle).exit_code, 0);
  auto r = Vouch(rs, "--until " + until_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("wal-missing: " + middle), std::string::npos) << r.out;
  // Without --until the backup's own range (its first segment) is whole.
  EXPECT_EQ(Vouch(rs).exit_code, 0);
}

TEST_F(Barman, ADamagedOrUnfinishedBackupInfoIsNamed) {
  const std::string pg = Copy("info", "pg");
  const std::string info = pg + "/base/" + id_["pg"] + "/backup.info";
  ASSERT_EQ(
      RunCommand("cp " + info + " " + dir_ + "/info.bak && truncate -s $(($(stat -c %s " + info + ") / 2)) " + info)
          .exit_code,
      0);
  // Named as the backup to verify, it is an error; as a server's newest, it
  // is passed over for none.
  auto r = Vouch(pg + "/base/" + id_["pg"]);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(info), std::string::npos) << r.err;
  auto server = Vouch(pg);
  EXPECT_EQ(server.exit_code, 2) << server.out << server.err;
  EXPECT_NE(server.err.find("no backup with status DONE"), std::string::npos) << server.err;
  // A backup Barman recorded as failed.
  ASSERT_EQ(RunCommand("sed 's/^status=DONE$/status=FAILED/; s/^error=None$/error=failure copying files/' " + dir_ +
                       "/info.bak > " + info)
                .exit_code,
            0);
  auto failed = Vouch(pg, "--set " + id_["pg"]);
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("status FAILED (failure copying files)"), std::string::npos) << failed.out;
  auto nosuch = Vouch(pg, "--set 20000101T000000");
  EXPECT_EQ(nosuch.exit_code, 2);
  EXPECT_NE(nosuch.err.find(id_["pg"]), std::string::npos) << nosuch.err;
  auto notone = Vouch(dir_);
  EXPECT_EQ(notone.exit_code, 2);
  EXPECT_NE(notone.err.find("neither a Barman server directory"), std::string::npos) << notone.err;
}

// restore-test of a Barman backup: its data/ (plain from rsync, tar.gz from
// the postgres method) restored into a scratch cluster, recovered from the
// server's wals/ (bzip2 and gzip segments under their plain names) to the
// archive's end, and proven against the source's digest.
TEST_F(Barman, ARestoreTestRecoversFromTheServersWals) {
  for (const char* s : {"rs", "tar"}) {
    SCOPED_TRACE(s);
    auto r = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch " + dir_ + "/barman/" + s +
                        " --expect " + dir_ + "/final.json --no-amcheck --format json");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("\"kind\": \"Barman backup\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(dir_ + "/barman/" + s + "/base/" + id_[s]), std::string::npos) << r.out;
  }
  auto pg = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch " + dir_ + "/barman/pg/base/" +
                       id_["pg"] + " --expect " + dir_ + "/final.json --no-amcheck");
  EXPECT_EQ(pg.exit_code, 0) << pg.out << pg.err;
  EXPECT_NE(pg.out.find("decompressed"), std::string::npos) << pg.out;
  // A segment recovery needs, gone: named, nothing restored.
  const std::string rs = Copy("restore", "rs");
  const std::string list = Segments(rs);
  const std::string middle = list.substr(25, 24);
  ASSERT_EQ(RunCommand("rm " + rs + "/wals/" + middle.substr(0, 16) + "/" + middle).exit_code, 0);
  auto gap = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch " + rs + " --expect " + dir_ +
                        "/final.json --no-amcheck");
  EXPECT_EQ(gap.exit_code, 1) << gap.out << gap.err;
  EXPECT_NE(gap.out.find("WAL segment " + middle + " is missing"), std::string::npos) << gap.out;
}

// --newest-in on a server's directory: the nightly checks on Barman's
// records, in text, JSON and Prometheus; what goes missing is named.
TEST_F(Barman, TheNightlyChecksReadBarmansRecords) {
  auto ok = RunCommand(vouch_ + " verify-backup --newest-in " + dir_ + "/barman/pg --max-age 1h");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("(Barman server pg): " + dir_ + "/barman/pg/base/" + id_["pg"]), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("✅ complete files: "), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("✅ complete WAL "), std::string::npos) << ok.out;
  auto prom = RunCommand(vouch_ + " verify-backup --newest-in " + dir_ + "/barman/rs --format prometheus");
  EXPECT_EQ(prom.exit_code, 0) << prom.out << prom.err;
  EXPECT_NE(prom.out.find("vouch_nightly_backup_ok{dir=\"" + dir_ + "/barman/rs\"} 1"), std::string::npos) << prom.out;
  auto old = RunCommand(vouch_ + " verify-backup --newest-in " + dir_ + "/barman/tar --max-age 1s --format json");
  EXPECT_EQ(old.exit_code, 1) << old.out << old.err;
  EXPECT_NE(old.out.find("\"repository\": \"Barman server tar\""), std::string::npos) << old.out;
  // A data file and a WAL segment gone from a copy.
  const std::string pg = Copy("nightly", "pg");
  const std::string seg = Segments(pg).substr(0, 24);
  ASSERT_EQ(RunCommand("rm " + pg + "/base/" + id_["pg"] + "/data/" + file_path_ + " " + pg + "/wals/" +
                       seg.substr(0, 16) + "/" + seg)
                .exit_code,
            0);
  auto gone = RunCommand(vouch_ + " verify-backup --newest-in " + pg);
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  EXPECT_NE(gone.out.find("❌ complete files: "), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find(file_path_ + ": not in"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("missing: " + seg), std::string::npos) << gone.out;
  // Last night's backup failed: its status says so.
  const std::string info = pg + "/base/" + id_["pg"] + "/backup.info";
  ASSERT_EQ(RunCommand("sed -i 's/^status=DONE$/status=FAILED/' " + info).exit_code, 0);
  auto failed = RunCommand(vouch_ + " verify-backup --newest-in " + pg);
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_NE(failed.out.find("complete files: status FAILED"), std::string::npos) << failed.out;
}

}  // namespace
}  // namespace vouch
