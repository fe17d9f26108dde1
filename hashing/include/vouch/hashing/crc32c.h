// CRC-32C (Castagnoli) as PostgreSQL computes it for backup manifests and
// global/pg_control (and iSCSI, ext4): reflected polynomial 0x1EDC6F41,
// initial value and final XOR 0xFFFFFFFF. Known answers (RFC 3720 B.4):
// 32 zero bytes → 0x8A9136AA, "123456789" → 0xE3069283.
//
// The SSE4.2 `crc32` instruction is used when the CPU has it (checked once at
// run time), with three interleaved streams so that its latency is hidden;
// elsewhere a portable slicing-by-8 table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vouch {

// The CRC-32C of n bytes.
uint32_t Crc32c(const void* data, size_t n);
// Continues a CRC: Crc32cExtend(Crc32c(a), b) == Crc32c(a ‖ b);
// Crc32cExtend(0, b) == Crc32c(b).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
// Crc32c(a ‖ b) from Crc32c(a), Crc32c(b) and b's length, in O(log length):
// parts of one file checksummed in parallel are combined with it.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

// The portable code path (tests compare both paths on the same input).
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);
// Which path Crc32c takes on this machine: "sse4.2" or "portable".
const char* Crc32cImplementation();

}  // namespace vouch
