// A ByteSource whose bytes are produced ahead on a thread of their own: the
// decompression of a tar.gz/.lz4/.zst stream runs beside whatever consumes it
// (tar parsing, checksums, page checks), instead of in turn with it. Used by
// verify-backup for a compressed tar backup, where one stream is the critical
// path.
#pragma once

#include <cstddef>
#include <memory>

#include "vouch/readers/byte_source.h"

namespace vouch {

// Reads `inner` to its end on a new thread, `block` bytes at a time, at most
// `blocks` blocks ahead of the consumer. The bytes, and an error where the
// inner source fails, come out of Read() in order. RawOffset() is the inner
// source's offset after the block being read. Destroying the source stops the
// thread (after the inner read under way).
std::unique_ptr<ByteSource> MakeReadAheadSource(std::unique_ptr<ByteSource> inner, size_t block = size_t{256} << 10,
                                                size_t blocks = 8);

}  // namespace vouch
