// The vouch binary end to end on real pg_dump output: output, manifest,
// exit codes, and one clear error line (file, table, byte offset) for bad
// input, with nothing printed on stdout as if the run were complete.
#include <gtest/gtest.h>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

class Cli : public testing::PreparedTest<Cli> {
 protected:
  friend class testing::PreparedTest<Cli>;
  static void Prepare() {
    db_ = testing::CreateDatabase("vouch_cli");
    dir_ = ::testing::TempDir() + "vouch_cli_" + std::to_string(getpid());
    ASSERT_EQ(RunCommand("mkdir -p " + dir_).exit_code, 0);
    auto gen = RunCommand(testing::BinPath("VOUCH_GEN_BIN") + " --scale 0.002 --seed 3 --dbname " + db_);
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    auto dump = RunCommand("cd " + dir_ + " && PGTZ=UTC pg_dump -Fp -d " + db_ +
                           " -f dump.sql && gzip -k dump.sql && zstd -q -k dump.sql && pg_dump -Fc -d " + db_ +
                           " -f dump.custom");
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) {
    return RunCommand("cd " + dir_ + " && " + vouch_ + " " + args);
  }

  static std::string db_, dir_, vouch_;
};
std::string Cli::db_, Cli::dir_, Cli::vouch_;

// A manifest that cannot be written whole is not written at all: a file-size
// limit (as a full disk would) makes the write fail part-way; the run fails
// with exit 3 and leaves neither a truncated manifest nor a temporary file.
TEST_F(Cli, AManifestThatCannotBeWrittenWholeIsNotLeftBehind) {
  ASSERT_EQ(RunCommand("rm -rf " + dir_ + "/limited && mkdir " + dir_ + "/limited").exit_code, 0);
  auto r = RunCommand("cd " + dir_ + " && trap '' XFSZ && ulimit -f 1 && " + vouch_ +
                      " digest dump.custom -q -o limited/m.json");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("limited/m.json"), std::string::npos) << r.err;
  EXPECT_EQ(RunCommand("ls -A " + dir_ + "/limited").out, "");
  // Without the limit the same run writes it.
  auto ok = Vouch("digest dump.custom -q -o limited/m.json");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(RunCommand("ls -A " + dir_ + "/limited").out, "m.json\n");
  // A device, or a link to one, is written through, never replaced.
  auto null = Vouch("digest dump.custom -q -o /dev/null");
  EXPECT_EQ(null.exit_code, 0) << null.err;
  EXPECT_EQ(RunCommand("test -c /dev/null").exit_code, 0);
  auto out = Vouch("digest dump.custom -q -o /dev/stdout");
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(RunCommand("test -L /dev/stdout").exit_code, 0);
}

TEST_F(Cli, DigestPrintsTablesAndFinalHashAndWritesAManifest) {
  auto r = Vouch("digest dump.sql.gz -o m.json --jobs 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| public.audit_log"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Content Hash"), std::string::npos);
  size_t pos = r.out.find("FINAL_VALIDATION_HASH: ");
  ASSERT_NE(pos, std::string::npos);
  std::string final_hash = r.out.substr(pos + 23, 64);
  // The manifest is a source too, and gives the same final hash.
  auto again = Vouch("digest m.json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("FINAL_VALIDATION_HASH: " + final_hash), std::string::npos) << again.out;
  auto json = Vouch("digest dump.sql.zst --format json --quiet");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"final_validation_hash\": \"" + final_hash + "\""), std::string::npos);
  EXPECT_EQ(json.err, "");
}

TEST_F(Cli, TableSelectionFollowsPgDumpPatterns) {
  auto r = Vouch("digest dump.sql.gz -t 'public.t*' -T tool_calls -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| public.tasks "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("tool_calls"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("agents"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1 tables,"), std::string::npos) << r.out;
  auto typo = Vouch("digest dump.sql.gz -t taks -q");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("'taks' matches no table"), std::string::npos) << typo.err;
  EXPECT_EQ(typo.out, "");
}

TEST_F(Cli, LargeObjectsAreDigestedNotSilentlySkipped) {
  std::string db = testing::CreateDatabase("vouch_lo");
  ASSERT_EQ(RunCommand("psql -X -q -d " + db +
                       " -c \"CREATE TABLE t (id int); INSERT INTO t VALUES (1); "
                       "SELECT lo_from_bytea(0, 'hello'), lo_from_bytea(0, 'world')\"")
                .exit_code,
            0);
  ASSERT_EQ(RunCommand("cd " + dir_ + " && pg_dump -Fp -d " + db + " -f lo.sql").exit_code, 0);
  auto r = Vouch("digest lo.sql -q");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Large objects: 2 (10 bytes), digest "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(part of FINAL_VALIDATION_HASH)"), std::string::npos) << r.out;
  // The same from the database itself.
  auto live = Vouch("digest " + testing::DatabaseUri(db) + " -q");
  EXPECT_EQ(live.exit_code, 0) << live.err;
  const size_t at = r.out.find("FINAL_VALIDATION_HASH: ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(live.out.find(r.out.substr(at, 87)), std::string::npos) << live.out << r.out;
  testing::DropDatabase(db);
}

TEST_F(Cli, VersionAndHelp) {
  auto v = Vouch("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("vouch "), std::string::npos);
  auto h = Vouch("help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("digest"), std::string::npos);
}

TEST_F(Cli, UsageErrorsExit2) {
  EXPECT_EQ(Vouch("").exit_code, 2);
  EXPECT_EQ(Vouch("digest").exit_code, 2);
  EXPECT_EQ(Vouch("digest dump.sql --bogus").exit_code, 2);
  EXPECT_EQ(Vouch("digest dump.sql --format xml").exit_code, 2);
  EXPECT_EQ(Vouch("digest dump.sql --chunk-size 12").exit_code, 2);
  EXPECT_EQ(Vouch("frobnicate").exit_code, 2);
}

// Runs vouch digest on FILE and expects exit `code`, nothing on stdout and one
// error line on stderr containing every string in `want`.
void ExpectFailure(const testing::CmdResult& r, int code, std::initializer_list<std::string> want) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.out, "") << "a failed run printed a result";
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& w : want) EXPECT_NE(r.err.find(w), std::string::npos) << "missing '" << w << "' in: " << r.err;
}

TEST_F(Cli, MissingFileExit3) {
  ExpectFailure(Vouch("digest no-such-dump.sql"), 3, {"no-such-dump.sql", "cannot open"});
}

TEST_F(Cli, TruncatedCompressedStreamsExit3WithOffsets) {
  ASSERT_EQ(
      RunCommand("cd " + dir_ + " && head -c 3000 dump.sql.gz > cut.sql.gz && head -c 3000 dump.sql.zst > cut.sql.zst")
          .exit_code,
      0);
  ExpectFailure(Vouch("digest cut.sql.gz"), 3, {"cut.sql.gz", "truncated", "offset"});
  ExpectFailure(Vouch("digest cut.sql.zst"), 3, {"cut.sql.zst", "truncated", "offset"});
}

TEST_F(Cli, CorruptGzipExit1) {
  // Flip one bit in the middle of the deflate data: gzip's CRC or the deflate
  // decoder catches it.
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && cp dump.sql.gz flip.sql.gz && size=$(stat -c %s flip.sql.gz) && "
                       "printf '\\x55' | dd of=flip.sql.gz bs=1 seek=$((size / 2)) conv=notrunc status=none")
                .exit_code,
            0);
  auto r = Vouch("digest flip.sql.gz");
  // The decoder's finding is the reported cause, even when a garbled row was
  // met before the gzip check could fail.
  ExpectFailure(r, 1, {"flip.sql.gz", "compressed byte offset", "gzip: "});
}

TEST_F(Cli, CopyBlockWithoutTerminatorExit3NamingTable) {
  // Keep the dump up to the middle of the tasks rows.
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && perl -ne 'print; $n++ if $in; exit if $n == 3; $in = 1 if /^COPY public.tasks /' "
                       "dump.sql > cut.sql")
                .exit_code,
            0);
  ExpectFailure(Vouch("digest cut.sql"), 3, {"cut.sql", "public.tasks", "offset", "truncated"});
}

TEST_F(Cli, DumpCutBetweenTablesExit3) {
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && perl -ne 'print; exit if /^COPY public.sessions /../^\\\\.$/ and /^\\\\.$/' "
                       "dump.sql > between.sql && tail -c 40 between.sql | grep -q '\\\\.'")
                .exit_code,
            0);
  ExpectFailure(Vouch("digest between.sql"), 3, {"between.sql", "footer"});
}

TEST_F(Cli, MalformedRowExit1) {
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && perl -pe 'if (/^COPY public.agents /../^\\\\.$/) { s/^1\\t/1\\textra\\t/ }' "
                       "dump.sql > badrow.sql && ! cmp -s dump.sql badrow.sql")
                .exit_code,
            0);
  ExpectFailure(Vouch("digest badrow.sql"), 1, {"badrow.sql", "public.agents", "offset", "fields"});
}

TEST_F(Cli, NotADumpExit3) {
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && printf 'hello\\nworld\\n' > text.txt && head -c 5000 /bin/sh > noise.bin && : > empty.sql")
                .exit_code,
            0);
  ExpectFailure(Vouch("digest text.txt"), 3, {"text.txt", "not a pg_dump"});
  ExpectFailure(Vouch("digest empty.sql"), 3, {"empty.sql"});
  auto noise = Vouch("digest noise.bin");
  ExpectFailure(noise, 3, {"noise.bin"});
  // A compressed custom archive is named as such (pg_dump -Fc compresses inside).
  ASSERT_EQ(RunCommand("cd " + dir_ + " && gzip -c dump.custom > dump.custom.gz").exit_code, 0);
  ExpectFailure(Vouch("digest dump.custom.gz"), 3, {"dump.custom.gz", "gzip-compressed pg_dump archive"});
}

TEST_F(Cli, CustomArchiveGivesThePlainDumpsDigest) {
  auto plain = Vouch("digest -q dump.sql");
  auto custom = Vouch("digest -q dump.custom");
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  EXPECT_EQ(custom.out.substr(custom.out.find("\n| ")), plain.out.substr(plain.out.find("\n| ")));
}

}  // namespace
}  // namespace vouch
