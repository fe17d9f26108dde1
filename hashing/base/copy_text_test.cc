// The COPY-text field codec: AppendCopyEscaped (whose fast path skips 16
// bytes at a time) against a byte-at-a-time reference that follows
// PostgreSQL's CopyAttributeOutText, on every position of a special byte,
// and the round trip through AppendCopyUnescaped.
#include "vouch/base/copy_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vouch {
namespace {

// CopyAttributeOutText (src/backend/commands/copyto.c): the six control
// bytes with a letter, the backslash doubled, everything else as it is.
std::string Reference(const std::string& in) {
  std::string out;
  for (unsigned char c : in) {
    switch (c) {
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      default: out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Escaped(const std::string& in) {
  std::string out = "prefix";  // appended to, never replaced
  AppendCopyEscaped(in, out);
  return out.substr(6);
}

TEST(CopyText, EachSpecialByteAtEveryPositionOfLongAndShortFields) {
  const std::string specials = std::string("\b\f\n\r\t\v\\\x01\x1f\x7f\x80\xff", 12);
  for (size_t len : {1, 15, 16, 17, 31, 32, 33, 64}) {
    for (size_t at = 0; at < len; ++at) {
      for (char s : specials) {
        std::string field(len, 'a');
        field[at] = s;
        ASSERT_EQ(Escaped(field), Reference(field)) << "len " << len << " at " << at << " byte " << int(s);
      }
    }
  }
}

TEST(CopyText, RandomFieldsMatchTheReferenceAndRoundTrip) {
  std::mt19937 rng(20261207);
  for (int i = 0; i < 20000; ++i) {
    std::string field(rng() % 80, '\0');
    const bool dense = i % 3 == 0;  // many specials, or a few in plain text
    for (char& c : field) c = static_cast<char>(dense || rng() % 20 == 0 ? rng() % 256 : 'a' + rng() % 26);
    const std::string escaped = Escaped(field);
    ASSERT_EQ(escaped, Reference(field)) << i;
    std::string back;
    AppendCopyUnescaped(escaped, back);
    ASSERT_EQ(back, field) << i;
  }
}

TEST(CopyText, EmptyAndPlainFieldsAreCopied) {
  EXPECT_EQ(Escaped(""), "");
  const std::string plain(1000, 'x');
  EXPECT_EQ(Escaped(plain), plain);
}

}  // namespace
}  // namespace vouch
