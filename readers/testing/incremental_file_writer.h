// Test helper: an INCREMENTAL.* file as the server writes it
// (src/backend/backup/basebackup.c): magic, block count, truncation length,
// the block numbers, zero padding to 8 KB when blocks follow, then `payload`
// (the blocks' bytes). Header only; for the readers' and the engine's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vouch/readers/incremental_file.h"

namespace vouch::testing {

inline std::string IncrementalFileBytes(const std::vector<uint32_t>& blocks, uint32_t truncation,
                                        const std::string& payload) {
  std::string b;
  auto put = [&](uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  put(kIncrementalMagic);
  put(static_cast<uint32_t>(blocks.size()));
  put(truncation);
  for (uint32_t x : blocks) put(x);
  if (!blocks.empty()) b.resize((b.size() + 8191) / 8192 * 8192, '\0');
  return b + payload;
}

}  // namespace vouch::testing
