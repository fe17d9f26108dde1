#include "vouch/base/finding.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vouch {
namespace {

TEST(Finding, ExitCodeIsOneForFindingsThreeForUnverifiedElseZero) {
  Outcome o;
  EXPECT_EQ(ExitCode(o), 0);
  EXPECT_TRUE(o.Verified());
  o.unverified.push_back("data page checksums: pg_control fails its CRC");
  EXPECT_EQ(ExitCode(o), 3);
  EXPECT_FALSE(o.Verified());
  o.findings.push_back({FindingKind::kMissing, "PG_VERSION", "is present in the manifest but not on disk"});
  EXPECT_EQ(ExitCode(o), 1);  // findings outrank what was not verified
  o.unverified.clear();
  EXPECT_EQ(ExitCode(o), 1);
}

TEST(Finding, EveryKindHasItsOwnName) {
  std::set<std::string> names;
  for (int k = 0; k <= static_cast<int>(FindingKind::kLargeObjectDiffers); ++k) {
    std::string name(FindingKindName(static_cast<FindingKind>(k)));
    EXPECT_NE(name, "unknown") << k;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  // The names reports and Prometheus labels have always carried.
  EXPECT_EQ(FindingKindName(FindingKind::kWalMissing), "wal-missing");
  EXPECT_EQ(FindingKindName(FindingKind::kControl), "control");
}

}  // namespace
}  // namespace vouch
