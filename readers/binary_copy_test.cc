// The binary COPY decoder: float output against PostgreSQL's own regression
// expectations, the stream read the same however it is split, and damaged
// streams refused with the row and column named. The whole conversion is
// checked against the server itself in tests/binary_copy_pg_test.cc.
#include "vouch/readers/binary_copy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace vouch {
namespace {

std::string Be(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

std::string Text(BinaryKind kind, const std::string& bin) {
  std::string out;
  Status st =
      BinaryValueText(BinaryColumn{kind, BinaryKind::kText, 0}, bin.data(), static_cast<int32_t>(bin.size()), out);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

TEST(BinaryCopy, FloatsAsPostgresRegressionSuiteExpects) {
  std::ifstream in(std::string(VOUCH_SOURCE_DIR) + "/readers/testdata/float_out.txt");
  ASSERT_TRUE(in) << "readers/testdata/float_out.txt";
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string hex, want;
    fields >> hex >> want;
    uint64_t bits = std::stoull(hex, nullptr, 16);
    BinaryKind kind = hex.size() == 8 ? BinaryKind::kFloat4 : BinaryKind::kFloat8;
    EXPECT_EQ(Text(kind, Be(bits, static_cast<int>(hex.size() / 2))), want) << hex;
    ++n;
  }
  EXPECT_GT(n, 500);
}

TEST(BinaryCopy, FloatSpecialValues) {
  double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity(), mz = -0.0;
  auto f8 = [](double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    return Be(b, 8);
  };
  EXPECT_EQ(Text(BinaryKind::kFloat8, f8(nan)), "NaN");
  EXPECT_EQ(Text(BinaryKind::kFloat8, f8(inf)), "Infinity");
  EXPECT_EQ(Text(BinaryKind::kFloat8, f8(-inf)), "-Infinity");
  EXPECT_EQ(Text(BinaryKind::kFloat8, f8(mz)), "-0");
  // The two examples, notation chosen as PostgreSQL chooses it.
  EXPECT_EQ(Text(BinaryKind::kFloat8, f8(0.0001)), "0.0001");
  float f = 1234567;
  uint32_t b;
  std::memcpy(&b, &f, 4);
  EXPECT_EQ(Text(BinaryKind::kFloat4, Be(b, 4)), "1.234567e+06");
}

// A stream of two int4 + text rows, the header with an extension area.
std::string Stream() {
  std::string s("PGCOPY\n\377\r\n\0", 11);
  s += Be(0, 4) + Be(3, 4) + "abc";
  s += Be(2, 2) + Be(4, 4) + Be(static_cast<uint32_t>(-7), 4) + Be(5, 4) + "a\tb\\c";
  s += Be(2, 2) + Be(4, 4) + Be(42, 4) + Be(0xffffffff, 4);
  s += Be(0xffff, 2);
  return s;
}

TEST(BinaryCopy, SameRowsHoweverTheStreamIsSplit) {
  const std::string s = Stream();
  const std::string want = "-7\ta\\tb\\\\c\n42\t\\N\n";
  for (size_t a = 0; a <= s.size(); ++a) {
    for (size_t b = a; b <= s.size(); b += 3) {
      BinaryCopyDecoder dec({{BinaryKind::kInt4}, {BinaryKind::kText}});
      std::string out;
      ASSERT_TRUE(dec.Feed(std::string_view(s).substr(0, a), out).ok());
      ASSERT_TRUE(dec.Feed(std::string_view(s).substr(a, b - a), out).ok());
      ASSERT_TRUE(dec.Feed(std::string_view(s).substr(b), out).ok());
      ASSERT_TRUE(dec.Finish().ok()) << a << " " << b;
      EXPECT_EQ(out, want) << a << " " << b;
      EXPECT_EQ(dec.rows(), 2u);
    }
  }
}

// Framed on the reading thread, converted in a chunk elsewhere: the same rows.
TEST(BinaryCopy, TuplesKeptThenConvertedInTheirChunk) {
  const std::string s = Stream();
  std::vector<BinaryColumn> cols = {{BinaryKind::kInt4}, {BinaryKind::kText}};
  BinaryCopyDecoder dec(cols, /*keep_tuples=*/true);
  std::string tuples;
  ASSERT_TRUE(dec.Feed(s, tuples).ok());
  ASSERT_TRUE(dec.Finish().ok());
  RowChunk chunk;
  chunk.data.resize(tuples.size());
  std::memcpy(chunk.data.data(), tuples.data(), tuples.size());
  chunk.size = tuples.size();
  chunk.binary_columns = &cols;
  std::string scratch;
  ASSERT_TRUE(ConvertBinaryChunk(chunk, scratch).ok());
  EXPECT_EQ(std::string(chunk.data.data(), chunk.size), "-7\ta\\tb\\\\c\n42\t\\N\n");
  EXPECT_EQ(chunk.binary_columns, nullptr);
  // A chunk cut inside a tuple is refused.
  chunk.size = tuples.size() - 1;
  std::memcpy(chunk.data.data(), tuples.data(), tuples.size());
  chunk.binary_columns = &cols;
  EXPECT_FALSE(ConvertBinaryChunk(chunk, scratch).ok());
}

TEST(BinaryCopy, DamageIsNamed) {
  std::string s = Stream();
  {
    BinaryCopyDecoder dec({{BinaryKind::kInt4}, {BinaryKind::kText}});
    std::string out;
    ASSERT_TRUE(dec.Feed(std::string_view(s).substr(0, s.size() - 2), out).ok());
    Status st = dec.Finish();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("without its trailer"), std::string::npos) << st.message();
  }
  {
    BinaryCopyDecoder dec({{BinaryKind::kText}, {BinaryKind::kInt8}});  // int4 and text on the wire
    std::string out;
    Status st = dec.Feed(s, out);
    EXPECT_NE(st.message().find("row 1, column 2: binary COPY: int8 value of 5 bytes"), std::string::npos)
        << st.message();
    EXPECT_EQ(out, "") << "a row that fails leaves no part of itself";  // found by the fuzz target
  }
  {
    BinaryCopyDecoder dec({{BinaryKind::kInt8}, {BinaryKind::kText}});  // int4 on the wire
    std::string out;
    Status st = dec.Feed(s, out);
    EXPECT_NE(st.message().find("row 1, column 1: binary COPY: int8 value of 4 bytes"), std::string::npos)
        << st.message();
  }
  {
    BinaryCopyDecoder dec({{BinaryKind::kInt4}});
    std::string out;
    Status st = dec.Feed(s, out);
    EXPECT_NE(st.message().find("row 1 has 2 fields, expected 1"), std::string::npos) << st.message();
  }
  {
    std::string bad = s;
    bad[0] = 'X';
    BinaryCopyDecoder dec({{BinaryKind::kInt4}, {BinaryKind::kText}});
    std::string out;
    EXPECT_FALSE(dec.Feed(bad, out).ok());
  }
}

TEST(BinaryCopy, ArrayStructure) {
  // int4[] '[0:1]={1,NULL}' and a two-dimensional text array needing quotes.
  std::string a = Be(1, 4) + Be(1, 4) + Be(23, 4) + Be(2, 4) + Be(0, 4) + Be(4, 4) + Be(1, 4) + Be(0xffffffff, 4);
  std::string out;
  ASSERT_TRUE(
      BinaryValueText({BinaryKind::kArray, BinaryKind::kInt4, 23}, a.data(), static_cast<int32_t>(a.size()), out).ok());
  EXPECT_EQ(out, "[0:1]={1,NULL}");
  std::string t = Be(2, 4) + Be(0, 4) + Be(25, 4) + Be(2, 4) + Be(1, 4) + Be(2, 4) + Be(1, 4);
  for (std::string e : {"a b", "", "NuLL", "x\"y"}) t += Be(e.size(), 4) + e;
  out.clear();
  ASSERT_TRUE(
      BinaryValueText({BinaryKind::kArray, BinaryKind::kText, 25}, t.data(), static_cast<int32_t>(t.size()), out).ok());
  EXPECT_EQ(out, "{{\"a b\",\"\"},{\"NuLL\",\"x\\\"y\"}}");
  // An element type other than the catalog's is refused.
  out.clear();
  EXPECT_FALSE(
      BinaryValueText({BinaryKind::kArray, BinaryKind::kInt4, 20}, a.data(), static_cast<int32_t>(a.size()), out).ok());
}

}  // namespace
}  // namespace vouch
