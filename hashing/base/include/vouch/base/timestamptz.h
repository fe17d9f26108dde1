// Rewriting timestamptz text to UTC. pg_dump does not set TimeZone, so a dump
// taken elsewhere writes `2025-09-15 04:22:15-04` where the canonical form
// (TimeZone=UTC) is `2025-09-15 08:22:15+00` (docs/formats.md "Canonical row text").
#pragma once

#include <string>
#include <string_view>

namespace vouch {

// How a column's values hold timestamptz, as far as the dump's DDL tells.
enum class TzKind : uint8_t {
  kNone = 0,        // no timestamptz inside
  kScalar = 1,      // timestamptz, or a domain over it
  kQuotedElements,  // array of timestamptz, tstzrange/multirange, range over it:
                    // every double-quoted element is a timestamptz
  kCheckOnly,       // type unknown or nested (composite): values are not
                    // rewritten, but one that looks like a timestamptz with
                    // a non-UTC offset is an error rather than a wrong hash
};

// Appends the UTC rendering of an ISO-style timestamptz value
// (`YYYY-MM-DD HH:MM:SS[.f]±HH[:MM[:SS]][ BC]`, `infinity`, `-infinity`) to
// *out, as PostgreSQL prints it with TimeZone=UTC. Returns false, appending
// nothing, when `v` is not such a value.
bool AppendTimestamptzUtc(std::string_view v, std::string* out);

// Rewrites every double-quoted element of an array/range literal that is a
// timestamptz. Returns false if a quoted element is not one.
bool AppendQuotedTimestamptzUtc(std::string_view v, std::string* out);

// True when `v` contains something shaped like a timestamptz whose offset is
// not +00 (for columns of unknown or nested type).
bool HasNonUtcTimestamptz(std::string_view v);

}  // namespace vouch
