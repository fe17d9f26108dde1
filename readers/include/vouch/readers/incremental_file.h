// INCREMENTAL.* files of a PostgreSQL 17+ incremental base backup
// (pg_basebackup --incremental): a relation segment file of which only the
// blocks changed since the prior backup are sent. Layout (native byte order,
// little-endian here), as the server writes it and pg_combinebackup reads it:
//   uint32 magic                    0xd3ae1f0d
//   uint32 num_blocks               at most the segment size (RELSEG_SIZE)
//   uint32 truncation_block_length  at most the segment size
//   uint32 block[num_blocks]        block numbers relative to the segment,
//                                   ascending
//   zero padding up to a multiple of BLCKSZ, when num_blocks > 0
//   num_blocks × BLCKSZ             the blocks, in the order listed
// Block i's absolute number (what its page checksum covers) is
// segno × RELSEG_SIZE + block[i]; segno comes from the file name.
// docs/formats.md has the details vouch relies on.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vouch/status.h"

namespace vouch {

inline constexpr uint32_t kIncrementalMagic = 0xd3ae1f0d;
inline constexpr std::string_view kIncrementalPrefix = "INCREMENTAL.";

struct IncrementalHeader {
  uint32_t truncation_block_length = 0;
  std::vector<uint32_t> blocks;  // relative block numbers, ascending
  uint64_t header_length = 0;    // where the first block starts
};

// How many bytes of the file's start ParseIncrementalHeader needs: 12 to know
// the block count, then the whole header with its padding. `prefix` is what
// has been read so far; 0 when it is enough (also when the block count is
// over `relseg_size`: the parser refuses it without reading further).
uint64_t IncrementalHeaderBytesNeeded(std::string_view prefix, uint32_t relseg_size, uint32_t blcksz);

// Parses and checks the header against the file's size. `prefix` holds at
// least the bytes IncrementalHeaderBytesNeeded asks for (or the whole file,
// if shorter). Errors (kCorrupt, with the byte offset): a bad magic, a block
// count or truncation length over `relseg_size`, a block number out of the
// segment or out of order, non-zero padding, a file shorter or longer than
// its header says (header + num_blocks × blcksz); kTruncated when the file
// ends inside its header.
Result<IncrementalHeader> ParseIncrementalHeader(std::string_view prefix, uint64_t file_size, uint32_t relseg_size,
                                                 uint32_t blcksz);

}  // namespace vouch
