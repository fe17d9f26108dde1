// U128: the 128-bit unsigned values vouch adds (row hashes, multiset sums).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vouch {

struct U128 {
  uint64_t hi = 0;
  uint64_t lo = 0;

  U128& operator+=(const U128& o) {
    unsigned __int128 a = (static_cast<unsigned __int128>(hi) << 64) | lo;
    unsigned __int128 b = (static_cast<unsigned __int128>(o.hi) << 64) | o.lo;
    a += b;  // wraps mod 2^128, as the digest algebra requires
    hi = static_cast<uint64_t>(a >> 64);
    lo = static_cast<uint64_t>(a);
    return *this;
  }
  U128& operator-=(const U128& o) {
    unsigned __int128 a = (static_cast<unsigned __int128>(hi) << 64) | lo;
    unsigned __int128 b = (static_cast<unsigned __int128>(o.hi) << 64) | o.lo;
    a -= b;
    hi = static_cast<uint64_t>(a >> 64);
    lo = static_cast<uint64_t>(a);
    return *this;
  }
  friend U128 operator+(U128 a, const U128& b) { return a += b; }
  friend bool operator==(const U128&, const U128&) = default;
  bool IsZero() const { return hi == 0 && lo == 0; }

  // Canonical bytes: big-endian, most significant byte first (as xxhsum prints).
  std::array<uint8_t, 16> BigEndianBytes() const;
  static U128 FromBigEndian(const uint8_t* p);
  std::string Hex() const;  // 32 lowercase hex digits, big-endian
  static bool FromHex(std::string_view hex, U128* out);
};

}  // namespace vouch
