// Known-answer tests for the digest algebra. Every expected value below was
// produced by an independent tool, not by this code:
//   row hashes:    printf '<row>' | xxhsum -H2          (xxHash 0.8.1 CLI)
//   128-bit sums:  Python integers, (a + b) % 2**128
//   SHA-256 values: sha256sum over the bytes written with printf/Python
// A change to any of them is a digest format change and needs a version bump.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/large_object_hash.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/hashing/sha256.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/io_buffer.h"

namespace vouch {
namespace {

TEST(RowHash, KnownAnswersFromXxhsum) {
  EXPECT_EQ(HashRow("").Hex(), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(HashRow("abc").Hex(), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(HashRow("1\tAlice\t\\N").Hex(), "a2a7f6ccf406eb868aaa52dc6489e2a2");
  // 200 bytes: XXH3's mid-size path; 1000 bytes: the SIMD-dispatched long path.
  EXPECT_EQ(HashRow(std::string(200, 'y')).Hex(), "833cf59a501ae2a8661514be62296c9c");
  EXPECT_EQ(HashRow(std::string(1000, 'x')).Hex(), "50a1af5a5f2dcf01c0a4877b962cba82");
}

// Cross-checks random rows of every length class against the xxhsum binary.
TEST(RowHash, AgreesWithXxhsumOnRandomRows) {
  std::mt19937_64 rng(7);
  for (size_t len : {1u, 3u, 16u, 17u, 128u, 129u, 240u, 241u, 1024u, 5000u}) {
    std::string row(len, '\0');
    for (char& c : row) c = static_cast<char>(rng() & 0xff);
    char path[] = "/tmp/vouch_rowhash_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, row.data(), row.size()), static_cast<ssize_t>(row.size()));
    close(fd);
    std::string cmd = std::string("xxhsum -H2 ") + path;
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[256] = {};
    ASSERT_NE(fgets(buf, sizeof buf, p), nullptr) << "xxhsum produced no output";
    ASSERT_EQ(pclose(p), 0) << "xxhsum failed (is the xxhash package installed?)";
    unlink(path);
    EXPECT_EQ(std::string(buf, 32), HashRow(row).Hex()) << "length " << len;
  }
}

// H(large object) is XXH3-128 of "OID\0bytes", streamed in any pieces:
// the reference is xxhsum -H2 over that file.
TEST(LargeObjectHash, AgreesWithXxhsumWhateverThePieces) {
  std::mt19937_64 rng(11);
  for (size_t len : {0u, 5u, 300u, 70000u}) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    const uint64_t oid = 16385 + len;
    const std::string file = std::to_string(oid) + std::string(1, '\0') + bytes;
    char path[] = "/tmp/vouch_lohash_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
    close(fd);
    FILE* p = popen((std::string("xxhsum -H2 ") + path).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[256] = {};
    ASSERT_NE(fgets(buf, sizeof buf, p), nullptr) << "xxhsum produced no output";
    ASSERT_EQ(pclose(p), 0) << "xxhsum failed (is the xxhash package installed?)";
    unlink(path);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{65536}}) {
      LargeObjectHasher h(oid);
      for (size_t at = 0; at < bytes.size(); at += piece)
        h.Update(bytes.data() + at, std::min(piece, bytes.size() - at));
      EXPECT_EQ(h.Finish().Hex(), std::string(buf, 32)) << "length " << len << ", pieces of " << piece;
    }
  }
}

TEST(U128, AdditionWrapsModulo2To128) {
  U128 a{~0ull, ~0ull};
  a += U128{0, 1};
  EXPECT_TRUE(a.IsZero());
  U128 b{0, ~0ull};
  b += U128{0, 1};
  EXPECT_EQ(b, (U128{1, 0}));
  b -= U128{0, 1};
  EXPECT_EQ(b, (U128{0, ~0ull}));
}

TEST(TableDigest, SumAndContentHashKnownAnswer) {
  TableDigest d;
  d.AddRowHash(HashRow("1\tAlice\t\\N"));
  d.AddRowHash(HashRow("2\tBob\t2025-09-15 08:22:15+00"));
  EXPECT_EQ(d.rows(), 2u);
  EXPECT_EQ(d.sum().Hex(), "bab56fd73c0d57e83aa6e041c97ba030");
  // sha256sum of 0000000000000002 ‖ bab56fd7...ba030, first 16 bytes.
  EXPECT_EQ(d.ContentHashHex(), "e961c643843150b28395e46202773085");
}

TEST(TableDigest, OrderFreeDuplicateSensitiveAndMergeable) {
  std::vector<std::string> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back("row " + std::to_string(i));
  TableDigest forward, shuffled, part1, part2;
  for (auto& r : rows) forward.AddRowHash(HashRow(r));
  std::mt19937 rng(1);
  std::shuffle(rows.begin(), rows.end(), rng);
  for (size_t i = 0; i < rows.size(); ++i) {
    shuffled.AddRowHash(HashRow(rows[i]));
    (i % 3 == 0 ? part1 : part2).AddRowHash(HashRow(rows[i]));
  }
  EXPECT_EQ(forward, shuffled);
  part1.Merge(part2);
  EXPECT_EQ(forward, part1);
  TableDigest dup = forward;
  dup.AddRowHash(HashRow(rows[0]));
  EXPECT_NE(dup.sum(), forward.sum());  // XOR would cancel a pair; a sum does not
  dup.AddRowHash(HashRow(rows[0]));
  EXPECT_NE(dup.sum(), forward.sum());
}

TEST(TableDigest, DifferingBucketsNameTheChangedRows) {
  TableDigest a, b;
  for (int i = 0; i < 10000; ++i) {
    std::string r = "r" + std::to_string(i);
    a.AddRowHash(HashRow(r));
    b.AddRowHash(HashRow(i == 1234 ? std::string("changed") : r));
  }
  auto diff = a.DifferingBuckets(b);
  ASSERT_GE(diff.size(), 1u);
  ASSERT_LE(diff.size(), 2u);
  EXPECT_NE(std::find(diff.begin(), diff.end(), a.BucketOf(HashRow("r1234"))), diff.end());
  EXPECT_NE(std::find(diff.begin(), diff.end(), a.BucketOf(HashRow("changed"))), diff.end());
}

TEST(TableDigest, CanonicalBytesRoundTripAndLayout) {
  TableDigest d(4);
  d.AddRowHash(HashRow("abc"));
  d.Finish();
  std::string bytes = d.CanonicalBytes();
  // One row: one bucket (version 2 sizes a digest by its rows).
  ASSERT_EQ(bytes.size(), 3u + 1 + 8 + 16 + 4 + 16);
  // "VTD", version 2, rows=1, sum = H("abc") (xxhsum -H2), 1 bucket holding it.
  EXPECT_EQ(HexEncode(bytes.substr(0, 32)),
            "56544402"
            "0000000000000001"
            "06b05ab6733a618578af5f94892f3950"
            "00000001");
  EXPECT_EQ(HexEncode(bytes.substr(32, 16)), "06b05ab6733a618578af5f94892f3950");
  auto back = TableDigest::FromCanonicalBytes(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, d);
  bytes[40] ^= 1;  // the bucket no longer adds up to the sum
  EXPECT_FALSE(TableDigest::FromCanonicalBytes(bytes).ok());
  bytes[3] = 3;
  EXPECT_EQ(TableDigest::FromCanonicalBytes(bytes).status().code(), StatusCode::kUnsupported);
}

// Version 1 gave every table the same bucket count; such a digest is still
// read, folded down to its version-2 size. A version-2 digest larger than its
// rows allow is refused.
TEST(TableDigest, ReadsVersionOneAndRefusesOversizedVersionTwo) {
  const U128 h = HashRow("abc");
  std::string v1 = HexDecode(
                       "56544401"
                       "0000000000000001"
                       "06b05ab6733a618578af5f94892f3950"
                       "00000004")
                       .value();
  // H("abc").hi >> 62 = 0: bucket 0 of 4 holds the row, the others are zero.
  v1 += HexDecode("06b05ab6733a618578af5f94892f3950").value() + std::string(48, '\0');
  auto d = TableDigest::FromCanonicalBytes(v1);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->rows(), 1u);
  EXPECT_EQ(d->bucket_count(), 1u);
  EXPECT_EQ(d->buckets()[0], h);
  std::string v2 = v1;
  v2[3] = 2;
  EXPECT_EQ(TableDigest::FromCanonicalBytes(v2).status().code(), StatusCode::kCorrupt);
}

TEST(TableDigest, SizeFollowsTheRows) {
  EXPECT_EQ(TableDigest::BucketsFor(0), 1u);
  EXPECT_EQ(TableDigest::BucketsFor(127), 1u);
  EXPECT_EQ(TableDigest::BucketsFor(128), 2u);
  EXPECT_EQ(TableDigest::BucketsFor(1000), 8u);  // 1000/64 = 15 -> 8
  EXPECT_EQ(TableDigest::BucketsFor(262144), 4096u);
  EXPECT_EQ(TableDigest::BucketsFor(uint64_t{1} << 40), 4096u);
  EXPECT_EQ(TableDigest::BucketsFor(uint64_t{1} << 40, 1u << 20), 1u << 20);
  // A finished digest's buckets, against a second, direct computation:
  // bucket = top log2(B) bits of the row hash.
  for (int n : {0, 10, 200, 5000, 300000}) {
    TableDigest d;
    const uint32_t b = TableDigest::BucketsFor(static_cast<uint64_t>(n));
    const int bits = std::countr_zero(b);
    std::vector<U128> expect(b);
    for (int i = 0; i < n; ++i) {
      U128 h = HashRow("row " + std::to_string(i));
      d.AddRowHash(h);
      expect[bits == 0 ? 0 : h.hi >> (64 - bits)] += h;
    }
    d.Finish();
    EXPECT_TRUE(d.finished());
    EXPECT_EQ(d.bucket_count(), b) << n;
    EXPECT_EQ(d.buckets(), expect) << n;
    EXPECT_EQ(d.CanonicalBytes().size(), 32u + 16u * b) << n;
  }
}

TEST(TableDigest, DigestsOfDifferentSizesMergeAndCompareAtTheCoarserOne) {
  TableDigest whole, small, large;
  for (int i = 0; i < 20000; ++i) {
    U128 h = HashRow("r" + std::to_string(i));
    whole.AddRowHash(h);
    (i < 300 ? small : large).AddRowHash(h);
  }
  whole.Finish();
  small.Finish();
  large.Finish();
  ASSERT_EQ(small.bucket_count(), 4u);
  ASSERT_EQ(large.bucket_count(), 256u);
  TableDigest merged = large;
  merged.Merge(small);
  EXPECT_EQ(merged.rows(), whole.rows());
  EXPECT_EQ(merged.sum(), whole.sum());
  EXPECT_EQ(merged.bucket_count(), 4u);
  EXPECT_EQ(merged, whole);  // equal at the common (coarser) resolution
  // A changed row is located at the common resolution.
  TableDigest changed;
  for (int i = 0; i < 20000; ++i) changed.AddRowHash(HashRow(i == 77 ? std::string("x") : "r" + std::to_string(i)));
  changed.Finish();
  EXPECT_EQ(whole.CommonBuckets(merged), 4u);
  auto diff = changed.DifferingBuckets(merged);
  ASSERT_GE(diff.size(), 1u);
  EXPECT_NE(std::find(diff.begin(), diff.end(), TableDigest::BucketOf(HashRow("r77"), 4)), diff.end());
}

TEST(FinalHash, KnownAnswerFromSha256sum) {
  U128 sum;
  ASSERT_TRUE(U128::FromHex("bab56fd73c0d57e83aa6e041c97ba030", &sum));
  std::vector<FinalTableEntry> tables{{"public", "people", 2, sum}};
  std::vector<FinalChainEntry> chains{{"public", "audit_log", std::string(32, '\xab'), 7}};
  auto h = FinalValidationHash(tables, chains);
  EXPECT_EQ(HexEncode(h.data(), h.size()), "e1f978b9e3f178b5c4826f418f29d9c888ff4d583b49e0a99982c0e3fc97d029");
}

// The large-objects pseudo-table (docs/digest-format.md "Large objects"):
// the expected digests were computed with Python's hashlib over bytes built
// from the definition (struct.pack('>I', oid) + owner length and bytes +
// H as 16 bytes big-endian, after "vouch.large_objects.v1\n"; then the final
// hash's "L" record: u64 count and that digest), not from vouch's output.
TEST(FinalHash, LargeObjectsKnownAnswer) {
  U128 h1, h2, sum;
  ASSERT_TRUE(U128::FromHex("00112233445566778899aabbccddeeff", &h1));
  ASSERT_TRUE(U128::FromHex("000000000000000000000000000000ff", &h2));
  ASSERT_TRUE(U128::FromHex("00000000000000000000000000000005", &sum));
  // Given out of OID order: the digest sorts them.
  std::vector<FinalLargeObjectEntry> objects{{16403, "vouch", h1}, {7, "", h2}};
  const std::string in = LargeObjectsInput(objects);
  EXPECT_EQ(in.substr(0, 23), "vouch.large_objects.v1\n");
  EXPECT_EQ(in.size(), 23u + (4 + 4 + 0 + 16) + (4 + 4 + 5 + 16));
  const FinalLargeObjects lo = LargeObjectsDigest(objects);
  EXPECT_EQ(lo.count, 2u);
  EXPECT_EQ(HexEncode(lo.digest.data(), lo.digest.size()),
            "bf26ca0b440ae7db2a5eee2e9a65b0e44c50484efa372d7a74b3de1c7151eab8");
  std::vector<FinalTableEntry> tables{{"public", "t", 3, sum}};
  auto with = FinalValidationHash(tables, {}, lo);
  EXPECT_EQ(HexEncode(with.data(), with.size()), "524bf062c8f860d915afa4c8b31513a4b164bd8c52881f5ca51450b86dcde9b2");
  // Without large objects the final hash is the one it always was.
  auto without = FinalValidationHash(tables, {}, LargeObjectsDigest({}));
  EXPECT_EQ(HexEncode(without.data(), without.size()),
            "869e9f7cf1ebe899941bbe52f502a0b96d1a7365d8a5048dfd8d7ff90e118866");
  EXPECT_EQ(without, FinalValidationHash(tables, {}));
  // Owner and content each count.
  objects[0].owner = "other";
  EXPECT_NE(LargeObjectsDigest(objects).digest, lo.digest);
}

TEST(FinalHash, IndependentOfTableOrder) {
  std::vector<FinalTableEntry> t{
      {"public", "b", 1, U128{1, 2}}, {"public", "a", 3, U128{4, 5}}, {"other", "z", 0, U128{}}};
  auto h1 = FinalValidationHash(t, {});
  std::reverse(t.begin(), t.end());
  EXPECT_EQ(h1, FinalValidationHash(t, {}));
  t[0].rows++;
  EXPECT_NE(h1, FinalValidationHash(t, {}));
}

TEST(Sha256, KnownAnswer) {
  auto d = Sha256Of("abc");  // FIPS 180-2 test vector
  EXPECT_EQ(HexEncode(d.data(), d.size()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Every read buffer starts on a page: the kernel's copy into one 16 bytes
// off a 64-byte boundary (where glibc puts a plain vector of 128 KB or more)
// was 4-5x slower. Sizes around glibc's mmap threshold, and growth.
TEST(IoBuffer, PageAlignedAtEverySize) {
  for (size_t n : {size_t{1}, size_t{4095}, size_t{4096}, size_t{65536}, size_t{131072}, size_t{1} << 20,
                   (size_t{1} << 20) + 17}) {
    IoBuffer b(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 4096, 0u) << n;
    EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](char c) { return c == 0; })) << n;
    b.resize(3 * n + 5);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 4096, 0u) << n << " resized";
  }
  AlignedVector<uint8_t> u(200000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(u.data()) % 4096, 0u);
  // The chunk feeder hands buffers on by move assignment: the storage must
  // travel with them, not be copied element by element into a new
  // allocation, as it would be if two allocators could compare unequal.
  static_assert(std::allocator_traits<PageAlignedAllocator<char>>::is_always_equal::value);
  IoBuffer moved = IoBuffer(131072);
  const char* p = moved.data();
  IoBuffer taken(10);
  taken = std::move(moved);
  EXPECT_EQ(taken.data(), p);
}

// HexDecode against strtoul, byte by byte, over every digit pair; and what it
// refuses (a backup manifest's checksums go through it).
TEST(Hex, DecodeEveryPairAndRefusals) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string pair{static_cast<char>(a), static_cast<char>(b)};
      auto got = HexDecode(pair);
      const bool hex = std::isxdigit(a) && std::isxdigit(b);
      ASSERT_EQ(got.has_value(), hex) << a << " " << b;
      ASSERT_EQ(HexDigitValue(static_cast<char>(a)) >= 0, std::isxdigit(a) != 0) << a;
      if (hex) {
        ASSERT_EQ(static_cast<unsigned char>((*got)[0]), std::strtoul(pair.c_str(), nullptr, 16)) << pair;
      }
    }
  }
  EXPECT_EQ(HexDecode(""), std::string());
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_EQ(HexEncode(reinterpret_cast<const uint8_t*>(HexDecode("00FFa5")->data()), 3), "00ffa5");
}

}  // namespace
}  // namespace vouch
