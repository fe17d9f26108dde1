// Lowercase hex encoding and decoding of byte strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vouch {

std::string HexEncode(const uint8_t* data, size_t n);
inline std::string HexEncode(std::string_view bytes) {
  return HexEncode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}
// Decodes hex (either case); nullopt if the length is odd or a digit is invalid.
std::optional<std::string> HexDecode(std::string_view hex);
// A hex digit's value (either case), or -1.
int HexDigitValue(char c);

}  // namespace vouch
