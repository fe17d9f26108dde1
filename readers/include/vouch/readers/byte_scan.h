// Vectorized scans over COPY text (SSE2 on x86-64, scalar elsewhere). They
// run once per byte of every row, so they must stay far cheaper than hashing.
#pragma once

#include <cstddef>

namespace vouch {

// Number of bytes equal to `c` in [p, p + n).
size_t CountByte(const char* p, size_t n, char c);

// Offset of the first line that is exactly "\." — the end of a COPY block —
// within [p, p + n), where p is the start of a line; n if there is none.
// Only a line start can begin the terminator: a "\." inside a value is always
// written with its backslash doubled.
size_t FindCopyTerminator(const char* p, size_t n);

// Offset of the first byte of a COPY text row [p, p + n) (without its '\n')
// that COPY TO never writes: a backslash not starting one of \b \f \n \r
// \t \v \\ or a whole-field \N, or a raw carriage return; n if none.
size_t FindInvalidCopyEscape(const char* p, size_t n);

}  // namespace vouch
