// CRC-32C known answers (RFC 3720 B.4 and a PostgreSQL 15 manifest), the
// hardware path against the portable one, and joining CRCs of parts.
#include "vouch/hashing/crc32c.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <iostream>
#include <random>
#include <string>

namespace vouch {
namespace {

TEST(Crc32c, Rfc3720KnownAnswers) {
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(down.data(), down.size()), 0x113FDB5Cu);
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  for (const std::string& s : {zeros, ones, up, std::string("123456789")}) {
    EXPECT_EQ(Crc32cExtendPortable(0, s.data(), s.size()), Crc32c(s.data(), s.size()));
  }
}

// docs/formats.md "backup_manifest": a manifest writes the CRC's bytes little-endian. The
// manifest of a PostgreSQL 15 backup lists PG_VERSION ("15\n") as 8a744722.
TEST(Crc32c, ManifestByteOrderOfPgVersion) { EXPECT_EQ(Crc32c("15\n", 3), 0x2247748Au); }

TEST(Crc32c, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  if (std::string(Crc32cImplementation()) == "portable") GTEST_SKIP() << "no SSE4.2: Crc32c is the portable code";
  std::mt19937_64 rng(7);
  std::string buf(3 * 4096 * 3 + 123, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  for (size_t off : {0, 1, 3, 7}) {
    for (size_t len : std::initializer_list<size_t>{0, 1, 7, 8, 9, 63, 4096, 3 * 4096 - 1, 3 * 4096, 3 * 4096 + 1,
                                                    2 * 3 * 4096 + 77, buf.size() - 7}) {
      SCOPED_TRACE(std::to_string(off) + "+" + std::to_string(len));
      EXPECT_EQ(Crc32c(buf.data() + off, len), Crc32cExtendPortable(0, buf.data() + off, len));
    }
  }
  std::cout << "[ crc32c   ] implementation: " << Crc32cImplementation() << "\n";
}

TEST(Crc32c, ExtendAndCombineJoinParts) {
  std::mt19937_64 rng(11);
  std::string buf(100000, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  const uint32_t whole = Crc32c(buf.data(), buf.size());
  for (size_t cut : std::initializer_list<size_t>{0, 1, 4095, 12288, 50000, 99999, 100000}) {
    const uint32_t a = Crc32c(buf.data(), cut);
    const uint32_t b = Crc32c(buf.data() + cut, buf.size() - cut);
    EXPECT_EQ(Crc32cExtend(a, buf.data() + cut, buf.size() - cut), whole) << cut;
    EXPECT_EQ(Crc32cCombine(a, b, buf.size() - cut), whole) << cut;
  }
  // Three parts, as a file split across threads.
  uint32_t c = Crc32c(buf.data(), 30000);
  c = Crc32cCombine(c, Crc32c(buf.data() + 30000, 30000), 30000);
  c = Crc32cCombine(c, Crc32c(buf.data() + 60000, 40000), 40000);
  EXPECT_EQ(c, whole);
}

}  // namespace
}  // namespace vouch
