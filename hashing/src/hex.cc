#include "vouch/hashing/hex.h"

#include <array>
#include <cstdint>

namespace vouch {

std::string HexEncode(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

namespace {

// A digit's value, or -1: a table, as a backup manifest has a hex checksum
// for each of its files.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}();

}  // namespace

int HexDigitValue(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int a = kHexValue[static_cast<unsigned char>(hex[2 * i])];
    const int b = kHexValue[static_cast<unsigned char>(hex[2 * i + 1])];
    if ((a | b) < 0) return std::nullopt;
    out[i] = static_cast<char>((a << 4) | b);
  }
  return out;
}

}  // namespace vouch
