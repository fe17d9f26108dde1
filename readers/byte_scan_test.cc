// The vectorized scans against plain loops on random text.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "vouch/readers/byte_scan.h"

namespace vouch {
namespace {

size_t NaiveTerminator(const std::string& s) {
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    if ((i == 0 || s[i - 1] == '\n') && s[i] == '\\' && s[i + 1] == '.' && s[i + 2] == '\n') return i;
  }
  return s.size();
}

TEST(ByteScan, AgreesWithPlainLoops) {
  std::mt19937 rng(5);
  const char alphabet[] = "ab\t\n\\.";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s(rng() % 80, '\0');
    for (char& c : s) c = alphabet[rng() % 6];
    size_t tabs = 0;
    for (char c : s) tabs += c == '\t';
    ASSERT_EQ(CountByte(s.data(), s.size(), '\t'), tabs) << s;
    ASSERT_EQ(FindCopyTerminator(s.data(), s.size()), NaiveTerminator(s)) << s;
  }
}

TEST(ByteScan, EscapedBackslashDotIsNotATerminator) {
  std::string s = "1\t\\\\.\n\\\\.\nx\n\\.\n";
  EXPECT_EQ(FindCopyTerminator(s.data(), s.size()), s.size() - 3);
  EXPECT_EQ(FindCopyTerminator("\\.\n", 3), 0u);
  EXPECT_EQ(FindCopyTerminator("\\.", 2), 2u);  // needs its newline
}

}  // namespace
}  // namespace vouch
