// libFuzzer target: the pg_dump archive header and TOC parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/readers/archive_toc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto src = vouch::MakeMemorySource(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  auto toc = vouch::ReadArchiveToc(*src, "fuzz");
  if (toc.ok() && toc->entries.size() > size) __builtin_trap();  // every entry takes bytes
  return 0;
}
