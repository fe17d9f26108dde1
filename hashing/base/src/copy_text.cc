#include "vouch/base/copy_text.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vouch {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool IsOctal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

void AppendCopyUnescaped(std::string_view field, std::string& out) {
  const char* p = field.data();
  const char* end = p + field.size();
  while (p < end) {
    const char* bs = static_cast<const char*>(memchr(p, '\\', static_cast<size_t>(end - p)));
    if (bs == nullptr) {
      out.append(p, static_cast<size_t>(end - p));
      return;
    }
    out.append(p, static_cast<size_t>(bs - p));
    p = bs + 1;
    if (p == end) return;  // dangling backslash: dropped
    char c = *p++;
    switch (c) {
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'v': c = '\v'; break;
      case 'x':
        if (p < end && HexDigit(*p) >= 0) {
          int v = HexDigit(*p++);
          if (p < end && HexDigit(*p) >= 0) v = (v << 4) | HexDigit(*p++);
          c = static_cast<char>(v);
        }
        break;
      default:
        if (IsOctal(c)) {
          int v = c - '0';
          for (int i = 0; i < 2 && p < end && IsOctal(*p); ++i) v = (v << 3) | (*p++ - '0');
          c = static_cast<char>(v & 0xff);
        }
        break;  // any other byte stands for itself
    }
    out.push_back(c);
  }
}

void AppendCopyEscaped(std::string_view field, std::string& out) {
  const char* p = field.data();
  const size_t n = field.size();
  size_t start = 0, i = 0;
  for (;;) {
#if defined(__SSE2__)
    // Skip 16 bytes at a time while none is a control byte or a backslash
    // (most text has neither).
    const __m128i below = _mm_set1_epi8(0x1f), bs = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, below), v), _mm_cmpeq_epi8(v, bs));
      const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(special));
      if (m != 0) {
        i += static_cast<size_t>(__builtin_ctz(m));
        break;
      }
      i += 16;
    }
#endif
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(p[i]);
    char esc = 0;
    if (c < 0x20) {
      switch (c) {
        case '\b': esc = 'b'; break;
        case '\f': esc = 'f'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        case '\v': esc = 'v'; break;
        default: break;
      }
    } else if (c == '\\') {
      esc = '\\';
    }
    if (esc != 0) {
      out.append(p + start, i - start);
      out.push_back('\\');
      out.push_back(esc);
      start = i + 1;
    }
    ++i;
  }
  out.append(p + start, n - start);
}

void CopyUnescape(std::string_view field, std::string& out) {
  out.clear();
  AppendCopyUnescaped(field, out);
}

bool SplitCopyRow(std::string_view row, std::vector<std::string_view>& fields) {
  fields.clear();
  const char* base = row.data();
  const char* end = base + row.size();
  const char* start = base;  // of the current field
  const char* p = base;
  while (p < end) {
    const char* tab = static_cast<const char*>(memchr(p, '\t', static_cast<size_t>(end - p)));
    if (tab == nullptr) break;
    const char* k = tab;
    while (k > start && k[-1] == '\\') --k;
    p = tab + 1;
    if ((tab - k) % 2 == 1) continue;  // `\<TAB>`: a data tab
    fields.emplace_back(start, static_cast<size_t>(tab - start));
    start = p;
  }
  fields.emplace_back(start, static_cast<size_t>(end - start));
  const char* k = end;
  while (k > start && k[-1] == '\\') --k;
  return (end - k) % 2 == 0;
}

}  // namespace vouch
