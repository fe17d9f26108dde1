// timestamptz rewriting. Every expected value is PostgreSQL 15's own output:
// the input as pg_dump wrote it under some PGTZ, and the output of
// `SET TimeZone = UTC; SELECT 'input'::timestamptz` in psql.
#include "vouch/base/timestamptz.h"

#include <gtest/gtest.h>

namespace vouch {
namespace {

std::string Utc(std::string_view v) {
  std::string out;
  return AppendTimestamptzUtc(v, &out) ? out : "<not a timestamptz>";
}

TEST(Timestamptz, RewritesOffsetsToUtcAsPostgresPrintsThem) {
  EXPECT_EQ(Utc("2025-09-15 13:52:15.123+05:30"), "2025-09-15 08:22:15.123+00");
  EXPECT_EQ(Utc("1800-01-01 05:53:28+05:53:28"), "1800-01-01 00:00:00+00");  // Asia/Kolkata LMT
  EXPECT_EQ(Utc("0044-03-15 17:53:28+05:53:28 BC"), "0044-03-15 12:00:00+00 BC");
  EXPECT_EQ(Utc("0001-01-01 03:00:00+05"), "0001-12-31 22:00:00+00 BC");  // across the era
  EXPECT_EQ(Utc("2024-02-29 23:59:59.999999-10"), "2024-03-01 09:59:59.999999+00");
  EXPECT_EQ(Utc("10000-01-01 00:00:00+14"), "9999-12-31 10:00:00+00");
  EXPECT_EQ(Utc("2000-03-01 00:30:00+01"), "2000-02-29 23:30:00+00");
  EXPECT_EQ(Utc("1900-01-01 00:00:00-00:30:15"), "1900-01-01 00:30:15+00");
  EXPECT_EQ(Utc("2025-11-02 01:30:00-04"), "2025-11-02 05:30:00+00");        // America/New_York
  EXPECT_EQ(Utc("1883-11-18 07:03:58-04:56:02"), "1883-11-18 12:00:00+00");  // its LMT
  EXPECT_EQ(Utc("2025-09-15 08:22:15+00"), "2025-09-15 08:22:15+00");
  EXPECT_EQ(Utc("infinity"), "infinity");
  EXPECT_EQ(Utc("-infinity"), "-infinity");
}

TEST(Timestamptz, RejectsWhatIsNotOne) {
  for (const char* bad : {"", "2025-09-15", "2025-09-15 08:22:15", "2025-13-01 00:00:00+00", "abc",
                          "2025-09-15 08:22:15+5", "2025-09-15T08:22:15+00", "2025-09-15 08:22:15+00 AD"}) {
    EXPECT_EQ(Utc(bad), "<not a timestamptz>") << bad;
  }
}

TEST(Timestamptz, QuotedElementsOfArraysAndRanges) {
  std::string out;
  ASSERT_TRUE(AppendQuotedTimestamptzUtc("{\"2025-01-01 05:30:00+05:30\",NULL}", &out));
  EXPECT_EQ(out, "{\"2025-01-01 00:00:00+00\",NULL}");
  out.clear();
  ASSERT_TRUE(AppendQuotedTimestamptzUtc("[\"2025-01-01 05:30:00+05:30\",\"2025-01-02 05:30:00+05:30\")", &out));
  EXPECT_EQ(out, "[\"2025-01-01 00:00:00+00\",\"2025-01-02 00:00:00+00\")");
  out.clear();
  EXPECT_TRUE(AppendQuotedTimestamptzUtc("empty", &out));
  EXPECT_EQ(out, "empty");
  out.clear();
  EXPECT_FALSE(AppendQuotedTimestamptzUtc("{\"not a time\"}", &out));
}

TEST(Timestamptz, DetectsNonUtcOffsetsInsideOtherValues) {
  EXPECT_TRUE(HasNonUtcTimestamptz("(\"2025-03-01 17:30:00+05:30\",x)"));
  EXPECT_TRUE(HasNonUtcTimestamptz("2025-03-01 17:30:00.5-04"));
  EXPECT_FALSE(HasNonUtcTimestamptz("(\"2025-03-01 12:00:00+00\",x)"));
  EXPECT_FALSE(HasNonUtcTimestamptz("plain text 12:00"));
  EXPECT_FALSE(HasNonUtcTimestamptz("2025-01-01 00:00:00"));  // timestamp without time zone
}

}  // namespace
}  // namespace vouch
