// vouch-gen: deterministic, the expected row counts, valid foreign keys, and
// an audit_log hash chain that the real sha256sum agrees with.
#include <gtest/gtest.h>

#include <cmath>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class Gen : public testing::PreparedTest<Gen> {
 protected:
  friend class testing::PreparedTest<Gen>;
  static void Prepare() {
    a_ = testing::CreateDatabase("vouch_gen_a");
    b_ = testing::CreateDatabase("vouch_gen_b");
    for (const auto& db : {a_, b_}) {
      auto r = RunCommand(testing::BinPath("VOUCH_GEN_BIN") + " --scale 0.01 --seed 5 --dbname " + db);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(a_);
    testing::DropDatabase(b_);
  }
  static std::string a_, b_;
};
std::string Gen::a_, Gen::b_;

TEST_F(Gen, RowCountsFollowTheScale) {
  const std::pair<const char*, double> base[] = {{"agents", 1247},       {"sessions", 23156},
                                                 {"tasks", 89432},       {"executions", 156789},
                                                 {"tool_calls", 892441}, {"audit_log", 2847293}};
  for (const auto& [t, n] : base) {
    EXPECT_EQ(PsqlScalar(a_, std::string("SELECT count(*) FROM public.") + t), std::to_string(std::llround(n * 0.01)))
        << t;
  }
}

TEST_F(Gen, SameSeedSameData) {
  auto r = RunCommand("pg_dump --data-only -d " + a_ +
                      " | grep -v '^-- Dumped\\|^\\\\restrict\\|^\\\\unrestrict' > /tmp/gen_a_$$.sql && "
                      "pg_dump --data-only -d " +
                      b_ +
                      " | grep -v '^-- Dumped\\|^\\\\restrict\\|^\\\\unrestrict' > /tmp/gen_b_$$.sql && "
                      "cmp /tmp/gen_a_$$.sql /tmp/gen_b_$$.sql; rc=$?; rm -f /tmp/gen_[ab]_$$.sql; exit $rc");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(Gen, ForeignKeysAreDeclaredAndValid) {
  EXPECT_EQ(PsqlScalar(a_, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"), "4");
  EXPECT_EQ(
      PsqlScalar(a_,
                 "SELECT count(*) FROM public.tool_calls c LEFT JOIN public.executions e ON e.id = c.execution_id "
                 "WHERE e.id IS NULL"),
      "0");
  // Children are never older than their parents.
  EXPECT_EQ(PsqlScalar(a_,
                       "SELECT count(*) FROM public.tasks t JOIN public.sessions s ON s.id = t.session_id "
                       "WHERE t.created_at < s.started_at"),
            "0");
}

TEST_F(Gen, TitlesExerciseCopyEscapes) {
  EXPECT_NE(PsqlScalar(a_, "SELECT count(*) FROM public.tasks WHERE title LIKE E'%\\t%'"), "0");
  EXPECT_NE(PsqlScalar(a_, "SELECT count(*) FROM public.tasks WHERE title LIKE E'%\\n%'"), "0");
  EXPECT_NE(PsqlScalar(a_, "SELECT count(*) FROM public.tasks WHERE title LIKE '%日本%'"), "0");
}

TEST_F(Gen, AuditChainLinksAgreeWithSha256sum) {
  std::string n = PsqlScalar(a_, "SELECT max(seq) FROM public.audit_log");
  ASSERT_EQ(PsqlScalar(a_, "SELECT min(seq) FROM public.audit_log"), "1");
  for (const std::string& seq :
       {std::string("1"), std::string("2"), std::string("1000"), std::to_string(std::stoll(n) / 2), n}) {
    // psql renders the fields; the real sha256sum hashes them.
    auto r = RunCommand(
        "psql -X -At -F '|' -d " + a_ +
        " -c \"SELECT prev_hash, seq, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\\\"T\\\"HH24:MI:SS.US\\\"Z\\\"'), "
        "actor, action, payload FROM public.audit_log WHERE seq = " +
        seq + "\" | tr -d '\\n' | sha256sum | cut -c1-64");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string computed = r.out.substr(0, 64);
    EXPECT_EQ(computed, PsqlScalar(a_, "SELECT hash FROM public.audit_log WHERE seq = " + seq)) << "seq " << seq;
  }
  EXPECT_EQ(PsqlScalar(a_, "SELECT prev_hash FROM public.audit_log WHERE seq = 1"), std::string(64, '0'));
  EXPECT_EQ(PsqlScalar(a_,
                       "SELECT count(*) FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS want, "
                       "lag(seq) OVER (ORDER BY seq) AS prev_seq FROM public.audit_log) x "
                       "WHERE seq > 1 AND (prev_hash IS DISTINCT FROM want OR seq <> prev_seq + 1)"),
            "0");
}

}  // namespace
}  // namespace vouch
