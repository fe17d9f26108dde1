// H(row): XXH3-128 (seed 0) of the canonical row text, without its terminating
// newline. Long rows go through xxHash's runtime SIMD dispatch (SSE2/AVX2/
// AVX-512 picked on the running CPU); rows of at most 240 bytes take XXH3's
// scalar short-input path, inlined, which gives the same value.
#pragma once

#include <cstddef>
#include <string_view>

#include "vouch/hashing/u128.h"

namespace vouch {

U128 HashRow(const char* data, size_t len);
inline U128 HashRow(std::string_view row) { return HashRow(row.data(), row.size()); }

// 64-bit XXH3 (seed 0), for bucketing keys and other non-digest uses.
uint64_t Hash64(const char* data, size_t len);

}  // namespace vouch
