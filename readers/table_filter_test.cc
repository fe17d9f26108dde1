// pg_dump's pattern rules, case by case.
#include "vouch/readers/table_filter.h"

#include <gtest/gtest.h>

namespace vouch {
namespace {

TEST(TableFilter, EmptySelectsEverything) {
  TableFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.Selects("public", "anything"));
}

TEST(TableFilter, TablePatternsWildcardsAndCaseFolding) {
  TableFilter f;
  ASSERT_TRUE(f.AddTable("public.task*").ok());
  ASSERT_TRUE(f.AddTable("AUDIT_LOG").ok());     // folded to audit_log, any schema
  ASSERT_TRUE(f.AddTable("\"Odd Name\"").ok());  // exact, case kept
  EXPECT_TRUE(f.Selects("public", "tasks"));
  EXPECT_TRUE(f.Selects("public", "task"));
  EXPECT_FALSE(f.Selects("other", "tasks"));
  EXPECT_TRUE(f.Selects("other", "audit_log"));
  EXPECT_TRUE(f.Selects("s", "Odd Name"));
  EXPECT_FALSE(f.Selects("s", "odd name"));
  EXPECT_FALSE(f.Selects("public", "agents"));
}

TEST(TableFilter, QuestionMarkDotsAndRegexCharactersAreLiteral) {
  TableFilter f;
  ASSERT_TRUE(f.AddTable("t?").ok());
  ASSERT_TRUE(f.AddTable("\"a.b\".\"c+d\"").ok());
  EXPECT_TRUE(f.Selects("x", "t1"));
  EXPECT_FALSE(f.Selects("x", "t12"));
  EXPECT_TRUE(f.Selects("a.b", "c+d"));
  EXPECT_FALSE(f.Selects("aXb", "ccd"));
  EXPECT_FALSE(f.AddTable("a.b.c").ok());
  EXPECT_FALSE(f.AddTable("").ok());
}

TEST(TableFilter, StarsBacktrack) {
  TableFilter f;
  ASSERT_TRUE(f.AddTable("a*b*c").ok());
  ASSERT_TRUE(f.AddTable("\"x*\"").ok());  // quoted: a literal star
  EXPECT_TRUE(f.Selects("s", "axxbyyc"));
  EXPECT_TRUE(f.Selects("s", "abc"));
  EXPECT_TRUE(f.Selects("s", "abbbcbc"));
  EXPECT_FALSE(f.Selects("s", "acb"));
  EXPECT_FALSE(f.Selects("s", "abcd"));
  EXPECT_TRUE(f.Selects("s", "x*"));
  EXPECT_FALSE(f.Selects("s", "xy"));
}

TEST(TableFilter, SchemasAndExclusions) {
  TableFilter f;
  ASSERT_TRUE(f.AddSchema("pub*").ok());
  ASSERT_TRUE(f.AddExcludeTable("public.audit_log").ok());
  EXPECT_TRUE(f.Selects("public", "tasks"));
  EXPECT_FALSE(f.Selects("public", "audit_log"));
  EXPECT_FALSE(f.Selects("private", "tasks"));
  TableFilter g;
  ASSERT_TRUE(g.AddExcludeSchema("archive").ok());
  EXPECT_TRUE(g.Selects("public", "t"));
  EXPECT_FALSE(g.Selects("archive", "t"));
  // -t wins over -n/-N, as in pg_dump.
  TableFilter h;
  ASSERT_TRUE(h.AddTable("archive.t").ok());
  ASSERT_TRUE(h.AddExcludeSchema("archive").ok());
  EXPECT_TRUE(h.Selects("archive", "t"));
}

// -t/-T naming a partitioned table apply to every leaf under it; -n looks
// at the leaf's own schema.
TEST(TableFilter, PartitionedTableSelectsItsTree) {
  TableInfo leaf;
  leaf.schema = "s";
  leaf.name = "m_1a";
  leaf.partition_ancestors = {{"s", "m_1"}, {"other", "m"}};
  TableInfo plain;
  plain.schema = "s";
  plain.name = "m_other";
  for (const char* pattern : {"other.m", "m_1", "s.m_1a", "M"}) {
    TableFilter f;
    ASSERT_TRUE(f.AddTable(pattern).ok());
    EXPECT_TRUE(f.Selects(leaf)) << pattern;
    EXPECT_FALSE(f.Selects(plain)) << pattern;
  }
  TableFilter x;
  ASSERT_TRUE(x.AddExcludeTable("s.m_1").ok());
  EXPECT_FALSE(x.Selects(leaf));
  EXPECT_TRUE(x.Selects(plain));
  TableFilter n;
  ASSERT_TRUE(n.AddSchema("other").ok());
  EXPECT_FALSE(n.Selects(leaf));  // the root's schema does not select the leaf
  EXPECT_FALSE(n.Selects("s", "m_1a"));
}

TEST(TableFilter, UnmatchedIncludesAreReported) {
  TableFilter f;
  ASSERT_TRUE(f.AddTable("tasks").ok());
  ASSERT_TRUE(f.AddTable("taks").ok());
  ASSERT_TRUE(f.AddExcludeTable("nothing_here").ok());  // exclusions may match nothing
  auto un = f.UnmatchedIncludes({{"public", "tasks"}, {"public", "agents"}});
  EXPECT_EQ(un, std::vector<std::string>{"taks"});
}

}  // namespace
}  // namespace vouch
