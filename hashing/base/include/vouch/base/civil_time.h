// Civil time, the one place for it: proleptic Gregorian calendar arithmetic on
// day numbers (days since 1970-01-01), used by the timestamptz rewriting
// (timestamptz.h), chain (link timestamp renderings), engine (drill checks)
// and the generator; and the parser and formatter of the timestamps and
// durations users give on the command line and reports show.
// Howard Hinnant's days_from_civil / civil_from_days, exact for every int64
// day count a timestamp can hold; years are astronomical (1 BC = 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vouch {

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilDate c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  return c;
}

constexpr bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int DaysInMonth(int64_t y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// The `n` decimal digits of `s` at `pos` as a number in *out; false (and *out
// untouched) when they run past the end or one is not a digit. For the fixed
// fields of dates and times, where n is small enough not to overflow T.
template <typename T>
constexpr bool ParseDigits(std::string_view s, size_t pos, size_t n, T* out) {
  if (pos + n > s.size()) return false;
  T v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = static_cast<T>(v * 10 + static_cast<T>(s[i] - '0'));
  }
  *out = v;
  return true;
}

// Floor division and remainder of a time count by a unit (microseconds by
// 86,400,000,000, seconds by 86,400): the remainder is never negative.
constexpr int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
constexpr int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);
static_assert(CivilFromDays(-1).year == 1969 && CivilFromDays(-1).month == 12 && CivilFromDays(-1).day == 31);
static_assert(CivilFromDays(DaysFromCivil(-4713, 11, 24)).year == -4713);
static_assert(FloorDiv(-1, 86400) == -1 && FloorMod(-1, 86400) == 86399);

// Microseconds since the Unix epoch → "2025-09-30 16:48:00" (UTC, seconds).
std::string FormatTimestamp(int64_t us, bool with_micros = false);
// "2025-09-30 16:48:00[.123456][+00[:00]]" or with 'T' and 'Z' → µs since epoch.
std::optional<int64_t> ParseTimestampText(std::string_view text);
// "15m", "90s", "2h", "1d", "500ms" → µs.
std::optional<int64_t> ParseDuration(std::string_view text);

}  // namespace vouch
