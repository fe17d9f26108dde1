#include "vouch/readers/incremental_file.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "native_load.h"

namespace vouch {
namespace {

constexpr uint64_t kFixed = 12;  // magic, block count, truncation length

uint64_t HeaderLength(uint64_t num_blocks, uint32_t blcksz) {
  uint64_t n = kFixed + 4 * num_blocks;
  if (num_blocks > 0 && n % blcksz != 0) n += blcksz - n % blcksz;
  return n;
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

}  // namespace

uint64_t IncrementalHeaderBytesNeeded(std::string_view prefix, uint32_t relseg_size, uint32_t blcksz) {
  if (prefix.size() < kFixed) return kFixed;
  const uint32_t n = LoadNative<uint32_t>(prefix.data(), 4);
  if (n > relseg_size) return 0;
  const uint64_t need = HeaderLength(n, blcksz);
  return prefix.size() >= need ? 0 : need;
}

Result<IncrementalHeader> ParseIncrementalHeader(std::string_view prefix, uint64_t file_size, uint32_t relseg_size,
                                                 uint32_t blcksz) {
  if (file_size < kFixed || prefix.size() < kFixed) {
    return Truncated("byte offset " + std::to_string(file_size) + ": the file ends inside its 12-byte header");
  }
  const uint32_t magic = LoadNative<uint32_t>(prefix.data(), 0);
  if (magic != kIncrementalMagic) {
    return Corrupt("byte offset 0: magic " + Hex32(magic) + ", expected " + Hex32(kIncrementalMagic));
  }
  const uint32_t n = LoadNative<uint32_t>(prefix.data(), 4);
  if (n > relseg_size) {
    return Corrupt("byte offset 4: block count " + std::to_string(n) + " exceeds the segment size " +
                   std::to_string(relseg_size));
  }
  IncrementalHeader h;
  h.truncation_block_length = LoadNative<uint32_t>(prefix.data(), 8);
  if (h.truncation_block_length > relseg_size) {
    return Corrupt("byte offset 8: truncation block length " + std::to_string(h.truncation_block_length) +
                   " exceeds the segment size " + std::to_string(relseg_size));
  }
  h.header_length = HeaderLength(n, blcksz);
  if (file_size < h.header_length || prefix.size() < h.header_length) {
    return Truncated("byte offset " + std::to_string(std::min<uint64_t>(file_size, prefix.size())) +
                     ": the file ends inside its header of " + std::to_string(h.header_length) + " bytes (" +
                     std::to_string(n) + " blocks)");
  }
  h.blocks.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t at = kFixed + 4 * uint64_t{i};
    const uint32_t b = LoadNative<uint32_t>(prefix.data(), at);
    if (b >= relseg_size) {
      return Corrupt("byte offset " + std::to_string(at) + ": block number " + std::to_string(b) +
                     " is not inside a segment of " + std::to_string(relseg_size) + " blocks");
    }
    if (i > 0 && b <= h.blocks[i - 1]) {
      return Corrupt("byte offset " + std::to_string(at) + ": block number " + std::to_string(b) + " follows " +
                     std::to_string(h.blocks[i - 1]) + " (the list must ascend)");
    }
    h.blocks[i] = b;
  }
  for (uint64_t at = kFixed + 4 * uint64_t{n}; at < h.header_length; ++at) {
    if (prefix[at] != '\0') return Corrupt("byte offset " + std::to_string(at) + ": the header's padding is not zero");
  }
  const uint64_t expected = h.header_length + uint64_t{n} * blcksz;
  if (file_size != expected) {
    return Corrupt("the file is " + std::to_string(file_size) + " bytes; its header (" + std::to_string(n) +
                   " blocks) says " + std::to_string(expected));
  }
  return h;
}

}  // namespace vouch
