#include "vouch/hashing/row_hash.h"

#include <cstdint>

// Short inputs: XXH3's scalar path inlined into this file (no SIMD involved at
// <= 240 bytes, so the value equals the dispatched one).
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace {
// The library's dispatching entry point (xxh_x86dispatch.h), declared here with
// a layout-identical return type because XXH_INLINE_ALL renames xxHash's types.
struct Xxh128Raw {
  uint64_t low64;
  uint64_t high64;
};
extern "C" Xxh128Raw XXH3_128bits_dispatch(const void* input, size_t len);
extern "C" uint64_t XXH3_64bits_dispatch(const void* input, size_t len);
}  // namespace

namespace vouch {

U128 HashRow(const char* data, size_t len) {
  if (len <= XXH3_MIDSIZE_MAX) {
    XXH128_hash_t h = XXH3_128bits(data, len);
    return U128{h.high64, h.low64};
  }
  Xxh128Raw h = XXH3_128bits_dispatch(data, len);
  return U128{h.high64, h.low64};
}

uint64_t Hash64(const char* data, size_t len) {
  if (len <= XXH3_MIDSIZE_MAX) return XXH3_64bits(data, len);
  return XXH3_64bits_dispatch(data, len);
}

}  // namespace vouch
