// Timestamps and durations as users write them and reports print them.
#include "vouch/base/civil_time.h"

#include <charconv>
#include <cstdio>

namespace vouch {

std::optional<int64_t> ParseTimestampText(std::string_view s) {
  // YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z|±HH[:MM[:SS]]]  or a bare date.
  unsigned y, mo, d, h = 0, mi = 0, se = 0;
  if (!ParseDigits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) || s[7] != '-' ||
      !ParseDigits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t p = 10;
  int64_t frac = 0;
  if (p < s.size()) {
    if (s[p] != ' ' && s[p] != 'T') return std::nullopt;
    if (!ParseDigits(s, p + 1, 2, &h) || s.size() < p + 9 || s[p + 3] != ':' || !ParseDigits(s, p + 4, 2, &mi) ||
        s[p + 6] != ':' || !ParseDigits(s, p + 7, 2, &se)) {
      return std::nullopt;
    }
    if (h > 24 || mi > 59 || se > 60) return std::nullopt;
    p += 9;
    if (p < s.size() && s[p] == '.') {
      ++p;
      int64_t scale = 100000;
      size_t n = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (n < 6) frac += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
        ++n;
      }
      if (n == 0) return std::nullopt;
    }
  }
  int64_t offset = 0;  // seconds east of UTC
  if (p < s.size()) {
    if (s[p] == 'Z' && p + 1 == s.size()) {
      p = s.size();
    } else if (s[p] == '+' || s[p] == '-') {
      int sign = s[p] == '-' ? -1 : 1;
      unsigned oh = 0, om = 0, os = 0;
      if (!ParseDigits(s, p + 1, 2, &oh)) return std::nullopt;
      p += 3;
      if (p < s.size() && s[p] == ':') {
        if (!ParseDigits(s, p + 1, 2, &om)) return std::nullopt;
        p += 3;
        if (p < s.size() && s[p] == ':') {
          if (!ParseDigits(s, p + 1, 2, &os)) return std::nullopt;
          p += 3;
        }
      }
      offset = sign * static_cast<int64_t>(oh * 3600 + om * 60 + os);
    }
    if (p != s.size()) return std::nullopt;
  }
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  return secs * 1000000 + frac;
}

std::string FormatTimestamp(int64_t us, bool with_micros) {
  const int64_t secs = FloorDiv(us, 1000000);
  const int64_t micros = FloorMod(us, 1000000);
  const int64_t rem = FloorMod(secs, 86400);
  const CivilDate c = CivilFromDays(FloorDiv(secs, 86400));
  const long long y = c.year;
  const unsigned m = static_cast<unsigned>(c.month), d = static_cast<unsigned>(c.day);
  char buf[64];
  if (with_micros) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06lld", y, m, d,
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem % 3600 / 60),
                  static_cast<long long>(rem % 60), static_cast<long long>(micros));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", y, m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem % 3600 / 60), static_cast<long long>(rem % 60));
  }
  return buf;
}

std::optional<int64_t> ParseDuration(std::string_view s) {
  double v = 0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  std::string_view unit(ptr, static_cast<size_t>(e - ptr));
  double scale;
  if (unit == "us")
    scale = 1;
  else if (unit == "ms")
    scale = 1e3;
  else if (unit == "s" || unit.empty())
    scale = 1e6;
  else if (unit == "m" || unit == "min")
    scale = 60e6;
  else if (unit == "h")
    scale = 3600e6;
  else if (unit == "d")
    scale = 86400e6;
  else
    return std::nullopt;
  return static_cast<int64_t>(v * scale);
}

}  // namespace vouch
