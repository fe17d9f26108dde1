// A table's per-column facts packed in one string: each column's name, a NUL,
// and one byte of fact (a type's initial, a TzKind). One allocation per
// table instead of a map node per column: at 100,000 tables the maps held
// tens of MB while a dump's TOC was read. Column names never hold a NUL.
// Internal to readers/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vouch::packed {

inline void Append(std::string& packed, std::string_view column, char fact) {
  packed.append(column);
  packed.push_back('\0');
  packed.push_back(fact);
}

// The fact of the first entry named `column`.
inline std::optional<char> Find(std::string_view packed, std::string_view column) {
  for (size_t i = 0; i < packed.size();) {
    const size_t nul = packed.find('\0', i);
    if (nul == std::string_view::npos || nul + 1 >= packed.size()) break;
    if (packed.substr(i, nul - i) == column) return packed[nul + 1];
    i = nul + 2;
  }
  return std::nullopt;
}

}  // namespace vouch::packed
