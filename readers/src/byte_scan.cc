#include "vouch/readers/byte_scan.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vouch {

size_t CountByte(const char* p, size_t n, char c) {
  size_t count = 0, i = 0;
#if defined(__SSE2__)
  // Matches are counted per byte lane (a match compares as -1, subtracted),
  // and the lanes summed every 255 blocks, before one can overflow: no
  // popcount, which without -mpopcnt is a library call per block.
  const __m128i needle = _mm_set1_epi8(c);
  while (i + 16 <= n) {
    const size_t blocks = std::min<size_t>((n - i) / 16, 255);
    __m128i lanes = _mm_setzero_si128();
    for (size_t b = 0; b < blocks; ++b, i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, needle));
    }
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    count += static_cast<size_t>(_mm_cvtsi128_si32(sums)) + static_cast<size_t>(_mm_extract_epi16(sums, 4));
  }
#endif
  for (; i < n; ++i) count += p[i] == c;
  return count;
}

namespace {
bool TerminatorAt(const char* p, size_t n, size_t i) {  // p[i] == '\\' at a line start
  return i + 2 < n && p[i + 1] == '.' && p[i + 2] == '\n';
}
}  // namespace

size_t FindCopyTerminator(const char* p, size_t n) {
  if (n >= 3 && p[0] == '\\' && TerminatorAt(p, n, 0)) return 0;
  size_t i = 0;
#if defined(__SSE2__)
  // Candidates: a '\n' followed by '\\'.
  const __m128i nl = _mm_set1_epi8('\n'), bs = _mm_set1_epi8('\\');
  for (; i + 17 <= n; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, nl), _mm_cmpeq_epi8(b, bs))));
    while (m != 0) {
      size_t k = i + static_cast<size_t>(__builtin_ctz(m)) + 1;
      if (TerminatorAt(p, n, k)) return k;
      m &= m - 1;
    }
  }
#endif
  for (; i + 1 < n; ++i) {
    if (p[i] == '\n' && p[i + 1] == '\\' && TerminatorAt(p, n, i + 1)) return i + 1;
  }
  return n;
}

namespace {
// Whether the backslash at q (inside [p, end)) starts an escape COPY TO writes.
bool ValidEscapeAt(const char* p, const char* end, const char* q) {
  if (q + 1 == end) return false;
  switch (q[1]) {
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\': return true;
    case 'N': return (q == p || q[-1] == '\t') && (q + 2 == end || q[2] == '\t');  // a whole-field NULL
    default: return false;
  }
}
}  // namespace

size_t FindInvalidCopyEscape(const char* p, size_t n) {
  const char* end = p + n;
  const char* q = p;
#if defined(__SSE2__)
  // Candidates in one pass: a backslash or a carriage return.
  const __m128i bs = _mm_set1_epi8('\\'), cr = _mm_set1_epi8('\r');
  while (q + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, bs), _mm_cmpeq_epi8(v, cr))));
    if (m == 0) {
      q += 16;
      continue;
    }
    const char* c = q + __builtin_ctz(m);
    if (*c == '\r' || !ValidEscapeAt(p, end, c)) return static_cast<size_t>(c - p);
    q = c + 2;  // past the escape: its second byte may itself be a backslash
  }
#endif
  for (; q < end; ++q) {
    if (*q == '\r') return static_cast<size_t>(q - p);
    if (*q == '\\') {
      if (!ValidEscapeAt(p, end, q)) return static_cast<size_t>(q - p);
      ++q;
    }
  }
  return n;
}

}  // namespace vouch
