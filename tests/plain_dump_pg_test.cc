// vouch digest of real pg_dump plain output (plain, gzip, zstd) of the
// generated drill database, checked against the server itself: row counts
// from SELECT count(*), digests from `psql \copy` output produced under the
// canonical session settings (docs/formats.md "Canonical row text") and hashed row by row.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/pg_test_env.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/manifest.h"
#include "vouch/hashing/row_hash.h"

namespace vouch {
namespace {

using testing::CreateDatabase;
using testing::PsqlScalar;
using testing::RunCommand;

const char kCanonicalOptions[] =
    "PGOPTIONS='-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c TimeZone=UTC "
    "-c bytea_output=hex -c row_security=off' PGCLIENTENCODING=UTF8";
const char* const kTables[] = {"agents", "sessions", "tasks", "executions", "tool_calls", "audit_log"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PlainDumpPg : public testing::PreparedTest<PlainDumpPg> {
 protected:
  friend class testing::PreparedTest<PlainDumpPg>;
  static void Prepare() {
    db_ = CreateDatabase("vouch_plain");
    dir_ = ::testing::TempDir() + "vouch_plain_" + std::to_string(getpid());
    ASSERT_EQ(RunCommand("mkdir -p " + dir_).exit_code, 0);
    auto gen = RunCommand(testing::BinPath("VOUCH_GEN_BIN") + " --scale 0.01 --seed 7 --dbname " + db_);
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    auto dump = RunCommand("PGTZ=UTC pg_dump -Fp -d " + db_ + " -f " + dir_ + "/dump.sql && gzip -k " + dir_ +
                           "/dump.sql && zstd -q -k " + dir_ + "/dump.sql");
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }

  static Result<DigestReport> Digest(const std::string& file, int jobs = 2, size_t chunk = 4 << 20) {
    DigestOptions opt;
    opt.jobs = jobs;
    opt.chunk_size = chunk;
    return DigestSource(file, opt);
  }

  // The digest of the table as the live server renders it: COPY of the
  // columns in byte order of their names, under the canonical settings.
  static TableDigest ServerDigest(const std::string& table) {
    std::string cols = PsqlScalar(db_,
                                  "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attname COLLATE \"C\") "
                                  "FROM pg_attribute WHERE attrelid = 'public." +
                                      table + "'::regclass AND attnum > 0 AND NOT attisdropped");
    std::string out = dir_ + "/" + table + ".copy";
    auto r = RunCommand(std::string(kCanonicalOptions) + " psql -X -q -d " + db_ + " -c \"\\copy (SELECT " + cols +
                        " FROM public." + table + ") TO '" + out + "'\"");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string text = ReadFile(out);
    TableDigest d;
    std::string_view s(text);
    while (!s.empty()) {
      size_t nl = s.find('\n');
      d.AddRowHash(HashRow(s.substr(0, nl)));
      s.remove_prefix(nl + 1);
    }
    return d;
  }

  static const TableResult* Find(const DigestReport& r, const std::string& name) {
    for (const auto& t : r.tables) {
      if (t.schema == "public" && t.name == name) return &t;
    }
    return nullptr;
  }

  static std::string db_;
  static std::string dir_;
};
std::string PlainDumpPg::db_;
std::string PlainDumpPg::dir_;

TEST_F(PlainDumpPg, RowCountsAndDigestsMatchTheServer) {
  std::map<std::string, TableDigest> server;
  for (const char* t : kTables) server.emplace(t, ServerDigest(t));
  std::string final_hash;
  for (const char* file : {"dump.sql", "dump.sql.gz", "dump.sql.zst"}) {
    SCOPED_TRACE(file);
    auto r = Digest(dir_ + "/" + file);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->tables.size(), std::size(kTables));
    for (const char* t : kTables) {
      const TableResult* tr = Find(*r, t);
      ASSERT_NE(tr, nullptr) << t;
      uint64_t count = std::stoull(PsqlScalar(db_, std::string("SELECT count(*) FROM public.") + t));
      EXPECT_GT(count, 0u);
      EXPECT_EQ(tr->digest.rows(), count) << t;
      EXPECT_EQ(tr->digest, server.at(t)) << t << ": dump digest differs from the server's COPY output";
    }
    if (final_hash.empty()) final_hash = r->FinalHashHex();
    EXPECT_EQ(r->FinalHashHex(), final_hash);
  }
}

TEST_F(PlainDumpPg, SameFinalHashForJobsAndChunkSizes) {
  auto ref = Digest(dir_ + "/dump.sql.gz", 1, 4 << 20);
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  for (int jobs : {1, 2}) {
    for (size_t chunk : {size_t{1} << 10, size_t{16} << 10, size_t{1} << 20, size_t{4} << 20}) {
      auto r = Digest(dir_ + "/dump.sql.gz", jobs, chunk);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->FinalHashHex(), ref->FinalHashHex()) << "jobs " << jobs << " chunk " << chunk;
    }
  }
}

TEST_F(PlainDumpPg, ShuffledRowsGiveTheSameHashAndOneChangedByteChangesOneTable) {
  // Shuffle the rows inside every COPY block (perl, deterministic seed).
  auto shuf = RunCommand(
      "perl -e 'srand(11); my @b; my $in = 0; while (<>) { if ($in) { if ($_ eq \"\\\\.\\n\") "
      "{ for (my $i = @b; --$i > 0;) { my $j = int rand($i + 1); @b[$i, $j] = @b[$j, $i]; } "
      "print @b; @b = (); $in = 0; print; } else { push @b, $_; } next; } "
      "$in = 1 if /^COPY .* FROM stdin;$/; print; }' " +
      dir_ + "/dump.sql > " + dir_ + "/shuffled.sql");
  ASSERT_EQ(shuf.exit_code, 0) << shuf.err;
  ASSERT_NE(ReadFile(dir_ + "/shuffled.sql"), ReadFile(dir_ + "/dump.sql"));
  auto ref = Digest(dir_ + "/dump.sql");
  auto shuffled = Digest(dir_ + "/shuffled.sql");
  ASSERT_TRUE(ref.ok() && shuffled.ok());
  EXPECT_EQ(shuffled->FinalHashHex(), ref->FinalHashHex());

  // Change one byte of one tasks row: its id 5 becomes 6.
  auto edit = RunCommand("perl -pe 'if (/^COPY public.tasks /../^\\\\.$/) { s/^5\\t/6\\t/ }' " + dir_ + "/dump.sql > " +
                         dir_ + "/edited.sql && ! cmp -s " + dir_ + "/dump.sql " + dir_ + "/edited.sql");
  ASSERT_EQ(edit.exit_code, 0) << "the edit did not change the dump";
  auto edited = Digest(dir_ + "/edited.sql");
  ASSERT_TRUE(edited.ok()) << edited.status().message();
  EXPECT_NE(edited->FinalHashHex(), ref->FinalHashHex());
  for (const char* t : kTables) {
    const TableResult* a = Find(*ref, t);
    const TableResult* b = Find(*edited, t);
    ASSERT_TRUE(a && b);
    if (std::string(t) == "tasks") {
      EXPECT_NE(a->digest.ContentHashHex(), b->digest.ContentHashHex());
      EXPECT_EQ(a->digest.rows(), b->digest.rows());
      size_t buckets = a->digest.DifferingBuckets(b->digest).size();  // the old row's bucket and the new one's
      EXPECT_GE(buckets, 1u);
      EXPECT_LE(buckets, 2u);
    } else {
      EXPECT_EQ(a->digest, b->digest) << t;
    }
  }
}

}  // namespace
}  // namespace vouch
