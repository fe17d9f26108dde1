// Reading fixed-width fields of PostgreSQL's on-disk structures (pg_control,
// data pages, WAL page headers), which are in the writing machine's byte
// order: little-endian for every build vouch targets (internal).
#pragma once

#include <cstddef>
#include <cstring>

namespace vouch {

template <typename T>
T LoadNative(const char* p, size_t offset) {
  T v;
  std::memcpy(&v, p + offset, sizeof v);
  return v;
}

}  // namespace vouch
