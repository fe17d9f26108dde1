// Decoders against independent encoders (zlib's gzip writer, libzstd, liblz4,
// libbz2's one-shot compressor):
// round trips, concatenated members/frames, and every truncation and a bit flip
// end in an error, never in a silently shorter stream.
#include "vouch/readers/byte_source.h"

#include <bzlib.h>
#include <gtest/gtest.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <random>

namespace vouch {
namespace {

std::string TestData(size_t n) {
  std::mt19937 rng(3);
  std::string s;
  while (s.size() < n) s += "row " + std::to_string(rng() % 100000) + "\tvalue\t\\N\n";
  s.resize(n);
  return s;
}

std::string GzipWithZlib(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A bare zlib stream, as pg_dump writes a custom archive's data blocks.
std::string ZlibStream(const std::string& in) {
  uLongf n = compressBound(in.size());
  std::string out(n, '\0');
  EXPECT_EQ(
      compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()), in.size(), 6),
      Z_OK);
  out.resize(n);
  return out;
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Lz4(const std::string& in) {
  std::string out(LZ4F_compressFrameBound(in.size(), nullptr), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
  EXPECT_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

Result<std::string> DecodeAll(const std::string& compressed, size_t read_size = 7777,
                              Compression c = Compression::kNone) {
  if (c == Compression::kNone) c = DetectCompression(compressed);
  auto src = MakeDecoder(c, MakeMemorySource(compressed, "test"), "test");
  std::string out, buf(read_size, '\0');
  while (true) {
    auto r = src->Read(buf.data(), buf.size());
    if (!r.ok()) return r.status();
    if (*r == 0) return out;
    out.append(buf.data(), *r);
  }
}

std::string Bzip2(const std::string& in) {
  unsigned n = static_cast<unsigned>(in.size() + in.size() / 100 + 600);
  std::string out(n, '\0');
  EXPECT_EQ(
      BZ2_bzBuffToBuffCompress(out.data(), &n, const_cast<char*>(in.data()), static_cast<unsigned>(in.size()), 9, 0, 0),
      BZ_OK);
  out.resize(n);
  return out;
}

struct Codec {
  const char* name;
  std::string (*compress)(const std::string&);
  Compression kind;
};
const Codec kCodecs[] = {{"gzip", GzipWithZlib, Compression::kGzip},
                         {"zstd", Zstd, Compression::kZstd},
                         {"lz4", Lz4, Compression::kLz4},
                         {"bzip2", Bzip2, Compression::kBzip2}};

TEST(Decoders, RoundTripAndConcatenation) {
  std::string data = TestData(3 << 20);
  for (const Codec& c : kCodecs) {
    SCOPED_TRACE(c.name);
    std::string z = c.compress(data);
    EXPECT_EQ(DetectCompression(z), c.kind);
    auto out = DecodeAll(z);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, data);
    // Two members/frames back to back decode as one stream (gzip -c a b > ab.gz).
    auto two = DecodeAll(z + c.compress("tail\n"), 1 << 20);
    ASSERT_TRUE(two.ok()) << two.status().message();
    EXPECT_EQ(*two, data + "tail\n");
    auto empty = DecodeAll(c.compress(""));
    ASSERT_TRUE(empty.ok()) << empty.status().message();
    EXPECT_EQ(*empty, "");
  }
}

TEST(Decoders, EveryTruncationIsAnError) {
  std::string data = TestData(200000);
  for (const Codec& c : kCodecs) {
    SCOPED_TRACE(c.name);
    std::string z = c.compress(data);
    for (size_t cut = 1; cut < z.size(); cut += 1 + cut / 7) {
      auto out = DecodeAll(z.substr(0, cut), 7777, c.kind);
      ASSERT_FALSE(out.ok()) << "cut at " << cut << " of " << z.size() << " decoded silently";
      EXPECT_TRUE(out.status().code() == StatusCode::kTruncated || out.status().code() == StatusCode::kCorrupt)
          << out.status().message();
    }
  }
}

TEST(Decoders, BitFlipsAndTrailingGarbageAreErrors) {
  std::string data = TestData(100000);
  std::string z = GzipWithZlib(data);
  // A flip in the deflate body or the CRC trailer is caught (CRC-32 check).
  for (size_t pos : {z.size() / 2, z.size() - 6}) {
    std::string bad = z;
    bad[pos] ^= 0x10;
    auto out = DecodeAll(bad);
    EXPECT_FALSE(out.ok() && *out == data) << "flip at " << pos << " not detected";
    EXPECT_FALSE(out.ok()) << "flip at " << pos;
  }
  auto garbage = DecodeAll(z + "garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(garbage.status().message().find("compressed byte offset"), std::string::npos);
  std::string zs = Zstd(data);
  zs[zs.size() / 2] ^= 0x55;
  auto zout = DecodeAll(zs);
  EXPECT_FALSE(zout.ok() && *zout == data);
  // bzip2: a flip inside a block fails its CRC; garbage after the stream
  // is named.
  std::string bz = Bzip2(data);
  bz[bz.size() / 2] ^= 0x04;
  auto bout = DecodeAll(bz);
  ASSERT_FALSE(bout.ok());
  EXPECT_EQ(bout.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(bout.status().message().find("bzip2"), std::string::npos) << bout.status().message();
  auto bgarbage = DecodeAll(Bzip2(data) + "garbage");
  ASSERT_FALSE(bgarbage.ok());
  EXPECT_NE(bgarbage.status().message().find("data after the end of the bzip2 stream"), std::string::npos)
      << bgarbage.status().message();
}

TEST(Decoders, ZlibStreamIsOneStreamWithItsChecksum) {
  std::string data = TestData(300000);
  std::string z = ZlibStream(data);
  auto out = DecodeAll(z, 4096, Compression::kZlib);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, data);
  auto empty = DecodeAll(ZlibStream(""), 4096, Compression::kZlib);
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(*empty, "");
  // Anything after the stream, even a second stream, is an error.
  auto two = DecodeAll(z + ZlibStream("x"), 4096, Compression::kZlib);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(two.status().message().find("data after the end of the zlib stream"), std::string::npos);
  // The Adler-32 trailer is checked; every truncation is an error.
  std::string bad = z;
  bad[bad.size() - 2] ^= 0x01;
  EXPECT_FALSE(DecodeAll(bad, 4096, Compression::kZlib).ok());
  for (size_t cut = 0; cut < z.size(); cut += 1 + cut / 5) {
    EXPECT_FALSE(DecodeAll(z.substr(0, cut), 4096, Compression::kZlib).ok()) << "cut at " << cut;
  }
}

TEST(Decoders, DetectByMagicNotByName) {
  EXPECT_EQ(DetectCompression("\x1f\x8b\x08"), Compression::kGzip);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd"), Compression::kZstd);
  EXPECT_EQ(DetectCompression(std::string("\x04\x22\x4d\x18", 4)), Compression::kLz4);
  EXPECT_EQ(DetectCompression(Bzip2("x")), Compression::kBzip2);
  EXPECT_EQ(DetectCompression(Bzip2("")), Compression::kBzip2);
  EXPECT_EQ(DetectCompression("BZh9 is not enough"), Compression::kNone);
  EXPECT_EQ(DetectCompression("--\n-- PostgreSQL"), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
}

TEST(FileSource, MissingFileNamesIt) {
  auto r = OpenDecodedFile("/nonexistent/dir/dump.sql.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/dump.sql.gz"), std::string::npos);
}

// ReadPrefix's length may come from an untrusted header (a tar member's size):
// it reads what is there and does not allocate the length up front (it did,
// and a 1 TB claim threw std::length_error / bad_alloc).
TEST(ReadPrefix, HugeLengthReadsWhatIsThere) {
  auto src = MakeMemorySource("0123456789", "small");
  auto got = ReadPrefix(*src, size_t{1} << 40);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, "0123456789");
  std::string big(200000, 'x');
  big[150000] = 'y';
  auto src2 = MakeMemorySource(big, "big");
  auto part = ReadPrefix(*src2, 150001);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->size(), 150001u);
  EXPECT_EQ(part->back(), 'y');
}

}  // namespace
}  // namespace vouch
