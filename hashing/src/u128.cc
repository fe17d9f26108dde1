#include "vouch/hashing/u128.h"

#include "vouch/hashing/hex.h"

namespace vouch {

std::array<uint8_t, 16> U128::BigEndianBytes() const {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  return b;
}

U128 U128::FromBigEndian(const uint8_t* p) {
  U128 v;
  for (int i = 0; i < 8; ++i) {
    v.hi = (v.hi << 8) | p[i];
    v.lo = (v.lo << 8) | p[8 + i];
  }
  return v;
}

std::string U128::Hex() const {
  auto b = BigEndianBytes();
  return HexEncode(b.data(), b.size());
}

bool U128::FromHex(std::string_view hex, U128* out) {
  if (hex.size() != 32) return false;
  auto raw = HexDecode(hex);
  if (!raw) return false;
  *out = FromBigEndian(reinterpret_cast<const uint8_t*>(raw->data()));
  return true;
}

}  // namespace vouch
