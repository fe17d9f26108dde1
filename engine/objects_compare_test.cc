// Sequences and large objects of two digests compared (objects_compare.h):
// state by order (behind fails, ahead is a note, descending sequences the
// other way round), definitions exactly or by fingerprint against a
// manifest, large objects object by object.
#include "objects_compare.h"

#include <gtest/gtest.h>

namespace vouch {
namespace {

SequenceInfo Seq(const std::string& name, int64_t last, bool called, int64_t increment = 1) {
  SequenceInfo s;
  s.schema = "public";
  s.name = name;
  s.has_definition = s.has_state = true;
  s.increment = increment;
  if (increment < 0) {
    s.min_value = INT64_MIN;
    s.max_value = -1;
  }
  s.last_value = last;
  s.is_called = called;
  return s;
}

CompareReport Report(std::vector<SequenceInfo> e, std::vector<SequenceInfo> a) {
  CompareReport r;
  r.expected.sequences = std::move(e);
  r.actual.sequences = std::move(a);
  CompareSequences(r);
  return r;
}

TEST(CompareSequences, BehindFailsAheadIsANoteWithTheDistance) {
  auto r = Report({Seq("a", 500, true), Seq("b", 10, true), Seq("c", 7, true), Seq("gone", 1, true)},
                  {Seq("a", 1, true), Seq("b", 42, true), Seq("c", 8, false), Seq("new", 1, false)});
  ASSERT_TRUE(r.sequences_compared);
  ASSERT_EQ(r.sequences.size(), 5u);
  EXPECT_EQ(r.sequences[0].state, SequenceState::kBehind);
  EXPECT_EQ(r.sequences[0].distance, 499u);
  EXPECT_TRUE(r.sequences[0].Failed());
  EXPECT_EQ(r.sequences[1].state, SequenceState::kAhead);
  EXPECT_EQ(r.sequences[1].distance, 32u);
  EXPECT_FALSE(r.sequences[1].Failed());
  // 8 not yet called gives 8 next, as 7 called does: equal.
  EXPECT_EQ(r.sequences[2].state, SequenceState::kEqual);
  EXPECT_TRUE(r.sequences[3].missing);
  EXPECT_TRUE(r.sequences[4].extra);
  EXPECT_EQ(r.outcome().findings.size(), 3u);
}

TEST(CompareSequences, DescendingSequenceBehindIsAboveTheSource) {
  auto r = Report({Seq("d", -100, true, -1)}, {Seq("d", -5, true, -1)});
  ASSERT_EQ(r.sequences.size(), 1u);
  EXPECT_EQ(r.sequences[0].state, SequenceState::kBehind);
  EXPECT_EQ(r.sequences[0].distance, 95u);
}

TEST(CompareSequences, DefinitionsExactlyOrByFingerprint) {
  SequenceInfo changed = Seq("s", 1, true);
  changed.increment = 7;
  auto r = Report({Seq("s", 1, true)}, {changed});
  ASSERT_EQ(r.sequences.size(), 1u);
  EXPECT_TRUE(r.sequences[0].definition_differs);
  EXPECT_NE(r.sequences[0].actual_definition.find("INCREMENT 7"), std::string::npos);
  // A manifest holds the fingerprint only.
  SequenceInfo stored = Seq("s", 1, true);
  stored.fingerprint = Seq("s", 1, true).DefinitionFingerprint();
  EXPECT_FALSE(Report({stored}, {Seq("s", 1, true)}).sequences[0].definition_differs);
  EXPECT_TRUE(Report({stored}, {changed}).sequences[0].definition_differs);
  // A --data-only dump has no definition: not compared.
  SequenceInfo state_only = Seq("s", 1, true);
  state_only.has_definition = false;
  EXPECT_FALSE(Report({state_only}, {changed}).sequences[0].Failed());
}

TEST(CompareSequences, ASideThatDoesNotTellIsSaid) {
  CompareReport r;
  r.expected.sequences = std::vector<SequenceInfo>{Seq("a", 1, true)};
  r.actual.source.location = "old.json";
  CompareSequences(r);
  EXPECT_FALSE(r.sequences_compared);
  EXPECT_NE(r.sequences_not_compared.find("old.json does not tell its sequences"), std::string::npos);
}

TEST(CompareLargeObjects, MissingExtraAndChangedByOid) {
  CompareReport r;
  r.expected.large_objects = std::vector<LargeObjectInfo>{
      {10, "a", true, 1, U128{0, 1}}, {11, "a", true, 1, U128{0, 2}}, {12, "a", true, 1, U128{0, 3}}};
  r.actual.large_objects = std::vector<LargeObjectInfo>{
      {11, "a", true, 1, U128{0, 9}}, {12, "b", true, 1, U128{0, 3}}, {13, "a", true, 1, U128{0, 4}}};
  CompareLargeObjects(r, 10);
  const LargeObjectsComparison& c = r.large_objects;
  ASSERT_TRUE(c.compared);
  EXPECT_EQ(c.missing_oids, std::vector<std::string>{"10"});
  EXPECT_EQ(c.extra_oids, std::vector<std::string>{"13"});
  EXPECT_EQ(c.changed_oids, (std::vector<std::string>{"11 (content)", "12 (owner a → b)"}));
  EXPECT_FALSE(c.Passed());
  EXPECT_NE(c.expected_digest, c.actual_digest);
  ASSERT_EQ(r.outcome().findings.size(), 1u);
  EXPECT_EQ(r.outcome().findings[0].kind, FindingKind::kLargeObjectDiffers);
}

}  // namespace
}  // namespace vouch
