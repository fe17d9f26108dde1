// vouch verify-backup --pgbackrest against real pgBackRest repositories
// (Debian's pgbackrest), on a cluster of its own whose archive_command is
// `pgbackrest archive-push`: a full set (gzip), a differential and an
// incremental one referring to it, full sets compressed with lz4 and zstd,
// and a bundled one (repo-bundle) verify, as `pgbackrest verify` says; then
// each damage is named:
//   - a bit flip inside a compressed file (pgbackrest verify catches it too);
//   - a bit flip in a data page with the file's SHA-1s and the manifest's
//     seal recomputed (tests/support/pgbr_edit.pl): pgbackrest verify
//     passes it, only page checksums catch it;
//   - a WAL segment whose header names another system identifier, stored
//     under its new SHA-1;
//   - a WAL segment deleted from the middle of the range a set needs;
//   - a truncated manifest (exit 1, the file named).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

class Pgbackrest : public testing::PreparedTest<Pgbackrest> {
 protected:
  friend class testing::PreparedTest<Pgbackrest>;
  static void Prepare() {
    const std::string root = testing::BinPath("VOUCH_SOURCE_DIR");
    edit_ = "perl " + root + "/tests/support/pgbr_edit.pl";
    vouch_ = testing::BinPath("VOUCH_BIN");
    ASSERT_EQ(RunCommand("command -v pgbackrest").exit_code, 0) << "pgbackrest is not installed (install-deps.sh)";
    dir_ = testing::MakeTempDir("vouch_pgbr");
    const std::string started = pg_.Start(dir_);
    ASSERT_EQ(started, "");
    runas_ = Env("PG_RUNAS");
    const std::string conf = dir_ + "/pgbackrest.conf";
    const std::string socket_dir = Scalar("SHOW unix_socket_directories");  // pgbackrest connects by socket
    ASSERT_EQ(RunCommand("chmod 755 " + dir_ + " && mkdir -p " + dir_ + "/repo " + dir_ + "/log " + dir_ +
                         "/lock && printf '%s\\n' '[global]' 'repo1-path=" + dir_ + "/repo' 'log-path=" + dir_ +
                         "/log' 'lock-path=" + dir_ + "/lock' 'start-fast=y' 'archive-async=n' 'repo2-path=" + dir_ +
                         "/repo_enc' 'repo2-cipher-type=aes-256-cbc' 'repo2-cipher-pass=" + kPass +
                         "' 'repo2-retention-full=9' 'repo1-retention-full=9' '[main]' 'pg1-path=" + Env("PG_DATADIR") +
                         "' 'pg1-port=" + Env("PGPORT") + "' 'pg1-socket-path=" + socket_dir + "' 'pg1-user=vouch' > " +
                         conf + (geteuid() == 0 ? " && chown -R " + runas_ + " " + dir_ : ""))
                  .exit_code,
              0);
    pgbr_ = (geteuid() == 0 ? "runuser -u " + runas_ + " -- " : std::string()) + "pgbackrest --config=" + conf +
            " --stanza=main ";
    ASSERT_EQ(Sql("postgres", "ALTER SYSTEM SET archive_command = 'pgbackrest --config=" + conf +
                                  " --stanza=main archive-push %p'"),
              "");
    ASSERT_EQ(Sql("postgres", "SELECT pg_reload_conf()"), "");
    ASSERT_EQ(Sql("postgres",
                  "CREATE TABLE t (id integer PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM "
                  "generate_series(1, 20000) g"),
              "");
    auto create =
        RunCommand(pgbr_ + "--log-level-console=warn stanza-create && " + pgbr_ + "--log-level-console=warn check");
    ASSERT_EQ(create.exit_code, 0) << create.out << create.err;
    full_ = Backup("--type=full --compress-type=gz");
    ASSERT_EQ(Sql("postgres", "UPDATE t SET v = 'diff' WHERE id <= 100"), "");
    diff_ = Backup("--type=diff");
    ASSERT_EQ(Sql("postgres", "INSERT INTO t SELECT g, 'incr' FROM generate_series(20001, 21000) g"), "");
    incr_ = Backup("--type=incr");
    lz4_ = Backup("--type=full --compress-type=lz4");
    zst_ = Backup("--type=full --compress-type=zst");
    bundle_ = Backup("--type=full --repo1-bundle");  // small files packed into bundle/N; empty ones not stored
    // An encrypted repository (repo2) of the same cluster: archive-push
    // stores every segment in both.
    auto enc = RunCommand(pgbr_ + "--log-level-console=warn --repo=2 --type=full backup");
    ASSERT_EQ(enc.exit_code, 0) << enc.out << enc.err;
    ASSERT_EQ(RunCommand("printf '%s\\n' '" + std::string(kPass) + "' > " + dir_ + "/pass && chmod 600 " + dir_ +
                         "/pass && printf 'not-the-pass-XYZ\\n' > " + dir_ + "/bad && chmod 600 " + dir_ + "/bad")
                  .exit_code,
              0);
    // WAL past the last set: three segment switches, all archived.
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(Sql("postgres", "INSERT INTO t SELECT g, 'wal' FROM generate_series(30001 + " + std::to_string(i) +
                                    " * 1000, 30000 + " + std::to_string(i + 1) + " * 1000) g"),
                "");
      if (i == 2) until_ = Scalar("SELECT pg_current_wal_lsn()");  // inside the last segment switched
      ASSERT_EQ(Sql("postgres", "SELECT pg_switch_wal()"), "");
    }
    auto checked = RunCommand(pgbr_ + "--log-level-console=warn check");  // waits for the last segment to be archived
    ASSERT_EQ(checked.exit_code, 0) << checked.err;
    file_path_ = Scalar("SELECT pg_relation_filepath('t')");
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

  static std::string Env(const std::string& key) { return pg_.Env(key); }
  static std::string Sql(const std::string& db, const std::string& sql) { return pg_.Sql(db, sql); }
  static std::string Scalar(const std::string& sql) { return pg_.Scalar(sql); }
  // Takes a backup; its label (the newest set in the repository).
  static std::string Backup(const std::string& args) {
    auto r = RunCommand(pgbr_ + "--log-level-console=warn " + args + " backup");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // backup.info lists the sets by label, the newest last.
    return RunCommand("sed -n '/^\\[backup:current\\]/,/^$/s/=.*//p' " + dir_ +
                      "/repo/backup/main/backup.info | tail -1 | tr -d '\\n'")
        .out;
  }
  // A copy of the repository to damage, owned by the server's user.
  static std::string CopyRepo(const std::string& name) {
    const std::string copy = dir_ + "/" + name;
    EXPECT_EQ(RunCommand("rm -rf " + copy + " && cp -a " + dir_ + "/repo " + copy).exit_code, 0);
    return copy;
  }
  static testing::CmdResult Vouch(const std::string& repo, const std::string& args) {
    return RunCommand(vouch_ + " verify-backup -q --pgbackrest " + repo + " --stanza main " + args);
  }
  // pgbackrest verify's log of a repository (its own check, the
  // reference). 2.45 exits 0 whatever it found; what it found is a
  // "status: error" summary, which a clean repository does not get.
  static std::string PgbrVerify(const std::string& repo) {
    auto r = RunCommand(pgbr_ + "--log-level-console=info --repo=1 --repo1-path=" + repo + " verify");
    return r.out + r.err + "exit " + std::to_string(r.exit_code);
  }
  static bool Ok(const std::string& log) {
    return log.find("verify command end: completed successfully") != std::string::npos &&
           log.find("status: error") == std::string::npos && log.find("exit 0") != std::string::npos;
  }

  static constexpr const char* kPass = "correct horse battery staple";
  static testing::OwnCluster pg_;
  static std::string edit_, vouch_, dir_, runas_, pgbr_, full_, diff_, incr_, lz4_, zst_, bundle_, until_, file_path_;
};
testing::OwnCluster Pgbackrest::pg_;
std::string Pgbackrest::edit_, Pgbackrest::vouch_, Pgbackrest::dir_, Pgbackrest::runas_, Pgbackrest::pgbr_,
    Pgbackrest::full_, Pgbackrest::diff_, Pgbackrest::incr_, Pgbackrest::lz4_, Pgbackrest::zst_, Pgbackrest::bundle_,
    Pgbackrest::until_, Pgbackrest::file_path_;

TEST_F(Pgbackrest, EverySetVerifiesWithItsPagesAndWal) {
  const std::string summary = PgbrVerify(dir_ + "/repo");
  EXPECT_TRUE(Ok(summary)) << summary;
  for (const std::string* set : {&full_, &diff_, &incr_, &lz4_, &zst_, &bundle_}) {
    ASSERT_FALSE(set->empty());
    auto r = Vouch(dir_ + "/repo", "--page-checksums --set '" + *set + "'");
    EXPECT_EQ(r.exit_code, 0) << *set << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("backrest-checksum verified"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" pages checked, 0 bad"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("✅ WAL segments "), std::string::npos) << r.out;
  }
  // The incremental set holds few files itself: most are its priors'.
  auto manifest = testing::ReadFileBytes(dir_ + "/repo/backup/main/" + incr_ + "/backup.manifest");
  EXPECT_NE(manifest.find("\"reference\":\"" + full_ + "\""), std::string::npos);
  // The newest set by default, and the WAL through a later LSN.
  auto newest = Vouch(dir_ + "/repo", "--until " + until_ + " --format json");
  EXPECT_EQ(newest.exit_code, 0) << newest.out << newest.err;
  EXPECT_NE(newest.out.find(bundle_), std::string::npos);
}

TEST_F(Pgbackrest, ABitFlipInACompressedFileIsNamed) {
  const std::string repo = CopyRepo("flip");
  const std::string file = repo + "/backup/main/" + full_ + "/pg_data/" + file_path_ + ".gz";
  ASSERT_TRUE(testing::FlipMiddleByte(file));
  const std::string summary = PgbrVerify(repo);
  EXPECT_FALSE(Ok(summary)) << summary;
  auto r = Vouch(repo, "--set " + full_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("pg_data/" + file_path_), std::string::npos) << r.out;
}

TEST_F(Pgbackrest, AFlippedPageWithItsChecksumsRecomputedOnlyPageChecksumsCatch) {
  const std::string repo = CopyRepo("page");
  const std::string key = "pg_data/" + file_path_;
  const std::string file = repo + "/backup/main/" + full_ + "/" + key + ".gz";
  // Byte 4000 of block 1 (a tuple's data, not the page header) changed, the
  // file recompressed, and its SHA-1s and sizes written into the resealed
  // manifest.
  ASSERT_EQ(
      RunCommand("set -e; gzip -dc " + file + " > " + dir_ + "/page.raw; printf '\\001' | dd of=" + dir_ +
                 "/page.raw bs=1 seek=$((8192 + 4000)) conv=notrunc status=none; gzip -6 -n -c " + dir_ +
                 "/page.raw > " + file + "; " + edit_ + " " + repo + "/backup/main/" + full_ + "/backup.manifest " +
                 key + " checksum='\"'$(sha1sum < " + dir_ + "/page.raw | cut -c1-40)'\"' rck='\"'$(sha1sum < " + file +
                 " | cut -c1-40)'\"' repo-size=$(stat -c %s " + file + ")")
          .exit_code,
      0);
  const std::string summary = PgbrVerify(repo);
  EXPECT_TRUE(Ok(summary)) << "pgbackrest verify should accept the resealed manifest and the new file:\n" << summary;
  auto without = Vouch(repo, "--set " + full_ + " --no-wal");
  EXPECT_EQ(without.exit_code, 0) << without.out;
  auto with = Vouch(repo, "--set " + full_ + " --no-wal --page-checksums");
  EXPECT_EQ(with.exit_code, 1) << with.out << with.err;
  EXPECT_NE(with.out.find("page: " + key), std::string::npos) << with.out;
}

TEST_F(Pgbackrest, AWalSegmentOfAnotherClusterIsNamed) {
  const std::string repo = CopyRepo("sysid");
  // The first segment of the full set, its long header's system identifier
  // changed, stored under its new SHA-1 as pgBackRest names it.
  auto info = testing::ReadFileBytes(repo + "/backup/main/" + full_ + "/backup.manifest");
  const size_t at = info.find("backup-archive-start=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string name = info.substr(at + 22, 24);
  ASSERT_EQ(RunCommand("set -e; f=$(ls " + repo + "/archive/main/*/" + name.substr(0, 16) + "/" + name +
                       "-*.gz); gzip -dc $f > " + dir_ + "/seg; printf '\\252' | dd of=" + dir_ +
                       "/seg bs=1 seek=24 conv=notrunc status=none; rm $f; gzip -6 -n -c " + dir_ +
                       "/seg > $(dirname $f)/" + name + "-$(sha1sum < " + dir_ + "/seg | cut -c1-40).gz")
                .exit_code,
            0);
  auto r = Vouch(repo, "--set " + full_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const size_t finding = r.out.find("wal-sysid: ");
  ASSERT_NE(finding, std::string::npos) << r.out;
  const std::string line = r.out.substr(finding, r.out.find('\n', finding) - finding);
  EXPECT_NE(line.find("/" + name + "-"), std::string::npos) << line;  // the segment, where it lies
}

// A byte of a WAL record changed (its page headers intact), the segment
// stored under its old name: its SHA-1 no longer matches the name's, which
// pgbackrest verify catches too.
TEST_F(Pgbackrest, AWalSegmentChangedUnderItsNameIsNamed) {
  const std::string repo = CopyRepo("walbody");
  auto info = testing::ReadFileBytes(repo + "/backup/main/" + full_ + "/backup.manifest");
  const size_t at = info.find("backup-archive-start=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string name = info.substr(at + 22, 24);
  ASSERT_EQ(
      RunCommand("set -e; f=$(ls " + repo + "/archive/main/*/" + name.substr(0, 16) + "/" + name +
                 "-*.gz); gzip -dc $f > " + dir_ + "/body; printf '\\125' | dd of=" + dir_ +
                 "/body bs=1 seek=$((8192 + 4000)) conv=notrunc status=none; gzip -6 -n -c " + dir_ + "/body > $f")
          .exit_code,
      0);
  EXPECT_FALSE(Ok(PgbrVerify(repo)));
  auto r = Vouch(repo, "--set " + full_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("the segment's SHA-1 is "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/" + name + "-"), std::string::npos) << r.out;
}

TEST_F(Pgbackrest, AWalSegmentMissingInTheMiddleIsNamed) {
  const std::string repo = CopyRepo("gap");
  auto before = Vouch(repo, "--until " + until_);
  ASSERT_EQ(before.exit_code, 0) << before.out;
  // The segments from the newest set's start through until_: the second
  // of them goes.
  auto list = RunCommand("ls " + repo + "/archive/main/*/*/ | grep -E '^[0-9A-F]{24}-' | sort | cut -c1-24");
  const std::string start = RunCommand("sed -n 's/^backup-archive-start=\"\\(.*\\)\"/\\1/p' " + repo + "/backup/main/" +
                                       bundle_ + "/backup.manifest | tr -d '\\n'")
                                .out;
  const size_t from = list.out.find(start);
  ASSERT_NE(from, std::string::npos) << list.out;
  const std::string middle = list.out.substr(from + 25, 24);
  ASSERT_EQ(RunCommand("rm " + repo + "/archive/main/*/" + middle.substr(0, 16) + "/" + middle + "-*").exit_code, 0);
  auto r = Vouch(repo, "--until " + until_);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("wal-missing: " + middle), std::string::npos) << r.out;
}

TEST_F(Pgbackrest, ATruncatedManifestOrAMissingStanzaIsAnError) {
  const std::string repo = CopyRepo("manifest");
  const std::string m = repo + "/backup/main/" + full_ + "/backup.manifest";
  ASSERT_EQ(RunCommand("truncate -s $(($(stat -c %s " + m + ") / 2)) " + m).exit_code, 0);
  auto r = Vouch(repo, "--set " + full_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(m), std::string::npos) << r.out;
  auto stanza = RunCommand(vouch_ + " verify-backup --pgbackrest " + repo + " --stanza nosuch");
  EXPECT_EQ(stanza.exit_code, 2) << stanza.err;
  EXPECT_NE(stanza.err.find("stanza nosuch"), std::string::npos) << stanza.err;
  auto set = Vouch(repo, "--set 20000101-000000F");
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_NE(set.err.find(full_), std::string::npos) << set.err;
}

// --newest-in on a repository: the nightly checks on pgBackRest's records
// (the stanza found when it is the only one); what goes missing is named.
TEST_F(Pgbackrest, TheNightlyChecksReadTheRepositorysRecords) {
  auto ok = RunCommand(vouch_ + " verify-backup --newest-in " + dir_ + "/repo --max-age 1h --format json");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("\"repository\": \"pgBackRest stanza main\""), std::string::npos) << ok.out;
  const std::string repo = CopyRepo("nightly");
  // The newest set (so far): the bundled one.
  auto manifest = testing::ReadFileBytes(repo + "/backup/main/" + bundle_ + "/backup.manifest");
  const size_t at = manifest.find("backup-archive-start=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string seg = manifest.substr(at + 22, 24);
  ASSERT_EQ(RunCommand("rm " + repo + "/archive/main/*/" + seg.substr(0, 16) + "/" + seg + "-*").exit_code, 0);
  auto gone = RunCommand(vouch_ + " verify-backup --newest-in " + repo + " --stanza main");
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  EXPECT_NE(gone.out.find("(pgBackRest stanza main): " + repo + "/backup/main/" + bundle_), std::string::npos)
      << gone.out;
  EXPECT_NE(gone.out.find("❌ complete WAL "), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("missing: " + seg), std::string::npos) << gone.out;
  auto nostanza = RunCommand(vouch_ + " verify-backup --newest-in " + repo + " --stanza nosuch");
  EXPECT_EQ(nostanza.exit_code, 2) << nostanza.out << nostanza.err;
}

// restore-test --pgbackrest: the set restored with `pgbackrest restore`,
// recovered from the repository's archive (exported plain) to its end, and
// proven against the source's digest; an encrypted repository's too.
TEST_F(Pgbackrest, ARestoreTestOfASetRecoversFromTheArchive) {
  auto r = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch --pgbackrest " + dir_ +
                      "/repo --stanza main --set " + diff_ + " --expect " + dir_ + "/final.json --no-amcheck");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("pgbackrest restore"), std::string::npos) << r.out;
  auto enc = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch --pgbackrest " + dir_ +
                        "/repo_enc --stanza main --cipher-pass-file " + dir_ + "/pass --expect " + dir_ +
                        "/final.json --no-amcheck --format json");
  EXPECT_EQ(enc.exit_code, 0) << enc.out << enc.err;
  EXPECT_NE(enc.out.find("\"kind\": \"pgBackRest set\""), std::string::npos) << enc.out;
  EXPECT_EQ(enc.out.find(kPass), std::string::npos) << "the passphrase was printed";
  auto none = RunCommand(vouch_ + " restore-test --scratch " + dir_ + "/scratch --pgbackrest " + dir_ +
                         "/repo --stanza nosuch --expect " + dir_ + "/final.json");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("nosuch"), std::string::npos) << none.err;
}

// An encrypted repository: its passphrase opens backup.info and
// archive.info, theirs the manifests and the WAL, the manifests' the files.
// Without it, or with a wrong one, nothing is verified: exit 3, the
// passphrase never printed.
TEST_F(Pgbackrest, AnEncryptedRepositoryVerifiesWithItsPassphraseOnly) {
  auto ref = RunCommand(pgbr_ + "--log-level-console=info --repo=2 verify");
  EXPECT_TRUE(Ok(ref.out + ref.err + "exit " + std::to_string(ref.exit_code))) << ref.out << ref.err;
  auto r = RunCommand(vouch_ + " verify-backup -q --pgbackrest " + dir_ + "/repo_enc --stanza main --page-checksums " +
                      "--cipher-pass-file " + dir_ + "/pass");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" pages checked, 0 bad"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("✅ WAL segments "), std::string::npos) << r.out;
  auto none = RunCommand(vouch_ + " verify-backup -q --pgbackrest " + dir_ + "/repo_enc --stanza main");
  EXPECT_EQ(none.exit_code, 3) << none.out << none.err;
  EXPECT_NE(none.err.find("--cipher-pass-file"), std::string::npos) << none.err;
  auto wrong = RunCommand(vouch_ + " verify-backup -q --pgbackrest " + dir_ + "/repo_enc --stanza main " +
                          "--cipher-pass-file " + dir_ + "/bad");
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
  EXPECT_EQ((wrong.out + wrong.err).find("XYZ"), std::string::npos);
  // A damaged encrypted file is named, not taken for a wrong passphrase.
  const std::string copy = CopyRepo("enc_flip");
  ASSERT_EQ(RunCommand("rm -rf " + copy + " && cp -a " + dir_ + "/repo_enc " + copy + " && f=$(ls " + copy +
                       "/backup/main/*F/pg_data/" + file_path_ +
                       ".gz) && printf '\\377' | dd of=$f bs=1 seek=$(($(stat -c %s $f) / 2)) conv=notrunc status=none")
                .exit_code,
            0);
  auto flip = RunCommand(vouch_ + " verify-backup -q --pgbackrest " + copy + " --stanza main --cipher-pass-file " +
                         dir_ + "/pass");
  EXPECT_EQ(flip.exit_code, 1) << flip.out << flip.err;
  EXPECT_NE(flip.out.find("pg_data/" + file_path_), std::string::npos) << flip.out;
}

// A set compressed with bzip2 verifies, pages and WAL too; a bit flip in
// one of its files is named. (Last: its set becomes the newest.)
TEST_F(Pgbackrest, ABzip2SetVerifiesAndItsDamageIsNamed) {
  const std::string bz2 = Backup("--type=full --compress-type=bz2");
  auto r = Vouch(dir_ + "/repo", "--page-checksums --set " + bz2);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" pages checked, 0 bad"), std::string::npos) << r.out;
  const std::string repo = CopyRepo("bz2flip");
  const std::string file = repo + "/backup/main/" + bz2 + "/pg_data/" + file_path_ + ".bz2";
  ASSERT_TRUE(testing::FlipMiddleByte(file));
  auto flip = Vouch(repo, "--set " + bz2);
  EXPECT_EQ(flip.exit_code, 1) << flip.out << flip.err;
  EXPECT_NE(flip.out.find("pg_data/" + file_path_), std::string::npos) << flip.out;
}

}  // namespace
}  // namespace vouch
