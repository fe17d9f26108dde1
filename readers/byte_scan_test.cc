// The vectorized scans against plain loops on random text.
#include "vouch/readers/byte_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vouch {
namespace {

size_t NaiveTerminator(const std::string& s) {
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    if ((i == 0 || s[i - 1] == '\n') && s[i] == '\\' && s[i + 1] == '.' && s[i + 2] == '\n') return i;
  }
  return s.size();
}

// COPY TO's escapes, read left to right as COPY FROM reads them.
size_t NaiveInvalidEscape(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') return i;
    if (s[i] != '\\') continue;
    if (i + 1 == s.size()) return i;
    char c = s[i + 1];
    bool whole_field_null = c == 'N' && (i == 0 || s[i - 1] == '\t') && (i + 2 == s.size() || s[i + 2] == '\t');
    if (std::string("bfnrtv\\").find(c) == std::string::npos && !whole_field_null) return i;
    ++i;
  }
  return s.size();
}

// The SIMD count sums its per-byte counters every 255 blocks of 16: a row of
// nothing but matches, on each side of that boundary, must not wrap a counter.
TEST(ByteScan, CountsLongRunsOfMatches) {
  for (size_t n : {4079u, 4080u, 4081u, 4095u, 4096u, 8160u, 8161u, 70000u}) {
    std::string s(n, '\t');
    ASSERT_EQ(CountByte(s.data(), s.size(), '\t'), n) << n;
    s[n / 2] = 'x';
    ASSERT_EQ(CountByte(s.data(), s.size(), '\t'), n - 1) << n;
  }
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
  const char row_alphabet[] = "ab\t\\Nnq";
  for (int iter = 0; iter < 50000; ++iter) {
    std::string s(rng() % 70, '\0');
    for (char& c : s) c = rng() % 50 == 0 ? '\r' : row_alphabet[rng() % 7];
    ASSERT_EQ(FindInvalidCopyEscape(s.data(), s.size()), NaiveInvalidEscape(s)) << s;
  }
}

TEST(ByteScan, InvalidEscapesAreWhatCopyNeverWrites) {
  auto bad = [](const std::string& s) { return FindInvalidCopyEscape(s.data(), s.size()); };
  for (std::string ok : {"tab\\there\\nline\t\\N\t\\\\\tx", "\\N\tx\t\\N", "\\b\\f\\r\\v", ""}) {
    EXPECT_EQ(bad(ok), ok.size()) << ok;
  }
  EXPECT_EQ(bad("a\\qb"), 1u);
  EXPECT_EQ(bad("x\\N"), 1u);   // \N only as a whole field
  EXPECT_EQ(bad("abc\\"), 3u);  // a trailing backslash
  EXPECT_EQ(bad("a\rb"), 1u);   // a raw carriage return
  // An escaped backslash at a 16-byte boundary, then an invalid escape.
  std::string s = std::string(15, 'x') + "\\\\" + std::string(14, 'y') + "\\z";
  EXPECT_EQ(bad(s), 31u);
}

TEST(ByteScan, EscapedBackslashDotIsNotATerminator) {
  std::string s = "1\t\\\\.\n\\\\.\nx\n\\.\n";
  EXPECT_EQ(FindCopyTerminator(s.data(), s.size()), s.size() - 3);
  EXPECT_EQ(FindCopyTerminator("\\.\n", 3), 0u);
  EXPECT_EQ(FindCopyTerminator("\\.", 2), 2u);  // needs its newline
}

}  // namespace
}  // namespace vouch
