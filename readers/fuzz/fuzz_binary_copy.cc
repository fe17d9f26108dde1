// libFuzzer target: the binary COPY decoder on arbitrary bytes. The first
// byte picks the number of columns, the next ones their kinds (arrays with
// an element kind); the rest, fed in two pieces split where the next byte
// says, is the stream. Whatever the bytes, the decoder must return rows or
// an error, never crash or read outside them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vouch/readers/binary_copy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int kKinds = static_cast<int>(vouch::BinaryKind::kArray) + 1;
  if (size < 2) return 0;
  size_t ncols = data[0] % 8, at = 1;
  if (size < at + 2 * ncols + 1) return 0;
  std::vector<vouch::BinaryColumn> cols;
  for (size_t i = 0; i < ncols; ++i, at += 2) {
    vouch::BinaryColumn c;
    c.kind = static_cast<vouch::BinaryKind>(data[at] % kKinds);
    c.element = static_cast<vouch::BinaryKind>(data[at + 1] % (kKinds - 1));
    c.element_oid = data[at + 1];
    cols.push_back(c);
  }
  size_t split = data[at++];
  std::string_view stream(reinterpret_cast<const char*>(data + at), size - at);
  split = std::min(split, stream.size());
  vouch::BinaryCopyDecoder dec(std::move(cols));
  std::string out;
  if (dec.Feed(stream.substr(0, split), out).ok() && dec.Feed(stream.substr(split), out).ok()) {
    dec.Finish().message();
  }
  // Every converted row ends in a newline.
  if (!out.empty() && out.back() != '\n') __builtin_trap();
  return 0;
}
