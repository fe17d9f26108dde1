#include "vouch/hashing/table_digest.h"

#include <bit>
#include <cstring>

#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"

namespace vouch {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU128(std::string& out, const U128& v) {
  auto b = v.BigEndianBytes();
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}
uint64_t GetBE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

constexpr uint32_t kMaxBuckets = 1u << 20;

}  // namespace

TableDigest::TableDigest(uint32_t buckets) {
  if (buckets == 0 || buckets > kMaxBuckets || !std::has_single_bit(buckets)) buckets = kDefaultBuckets;
  shift_ = 64 - static_cast<uint32_t>(std::countr_zero(buckets));
  buckets_.assign(buckets, U128{});
}

Status TableDigest::Merge(const TableDigest& other) {
  if (other.bucket_count() != bucket_count()) {
    return InvalidArgument("cannot merge digests with " + std::to_string(bucket_count()) + " and " +
                           std::to_string(other.bucket_count()) + " buckets");
  }
  rows_ += other.rows_;
  sum_ += other.sum_;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  return Status::Ok();
}

std::array<uint8_t, 16> TableDigest::ContentHash() const {
  std::string input;
  PutU64(input, rows_);
  PutU128(input, sum_);
  Sha256Digest d = Sha256Of(input);
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), d.data(), out.size());
  return out;
}

std::string TableDigest::ContentHashHex() const {
  auto h = ContentHash();
  return HexEncode(h.data(), h.size());
}

std::string TableDigest::CanonicalBytes() const {
  std::string out = "VTD";
  out.push_back(static_cast<char>(kFormatVersion));
  PutU64(out, rows_);
  PutU128(out, sum_);
  PutU32(out, bucket_count());
  out.reserve(out.size() + 16 * buckets_.size());
  for (const U128& b : buckets_) PutU128(out, b);
  return out;
}

Result<TableDigest> TableDigest::FromCanonicalBytes(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  constexpr size_t kHeader = 3 + 1 + 8 + 16 + 4;
  if (bytes.size() < kHeader || bytes.substr(0, 3) != "VTD") return Corrupt("not a vouch table digest");
  if (p[3] != kFormatVersion) {
    return Unsupported("table digest format version " + std::to_string(p[3]) + " (this vouch reads version " +
                       std::to_string(kFormatVersion) + ")");
  }
  uint32_t n = static_cast<uint32_t>(GetBE(p + 28, 4));
  if (n == 0 || n > kMaxBuckets || !std::has_single_bit(n)) return Corrupt("invalid bucket count " + std::to_string(n));
  if (bytes.size() != kHeader + 16ull * n) return Corrupt("table digest has the wrong length");
  TableDigest d(n);
  d.rows_ = GetBE(p + 4, 8);
  d.sum_ = U128::FromBigEndian(p + 12);
  U128 total;
  for (uint32_t i = 0; i < n; ++i) {
    d.buckets_[i] = U128::FromBigEndian(p + kHeader + 16ull * i);
    total += d.buckets_[i];
  }
  if (!(total == d.sum_)) return Corrupt("table digest buckets do not add up to its sum");
  return d;
}

std::vector<uint32_t> TableDigest::DifferingBuckets(const TableDigest& other) const {
  std::vector<uint32_t> out;
  if (other.bucket_count() != bucket_count()) return out;
  for (uint32_t i = 0; i < bucket_count(); ++i) {
    if (!(buckets_[i] == other.buckets_[i])) out.push_back(i);
  }
  return out;
}

}  // namespace vouch
