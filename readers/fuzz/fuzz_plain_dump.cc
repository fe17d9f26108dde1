// libFuzzer target: the plain-dump reader and the row canonicalizer on
// arbitrary bytes, raw or behind each decompressor (chosen by the first byte).
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/readers/canonical_row.h"
#include "vouch/readers/plain_dump_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const vouch::Compression kKinds[] = {vouch::Compression::kNone, vouch::Compression::kGzip,
                                              vouch::Compression::kZstd, vouch::Compression::kLz4,
                                              vouch::Compression::kBzip2};
  vouch::Compression c = kKinds[data[0] % 5];
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto src = vouch::MakeDecoder(c, vouch::MakeMemorySource(std::move(input), "fuzz"), "fuzz");
  auto reader = vouch::MakePlainDumpReader(std::move(src), "fuzz", c);
  vouch::RowChunk chunk;
  vouch::CanonicalScratch scratch;
  for (int i = 0; i < 10000; ++i) {
    auto more = reader->NextChunk(chunk, 256);
    if (!more.ok() || !*more) break;
    vouch::RowCanonicalizer canon(*chunk.table);
    std::string_view rows(chunk.data.data(), chunk.size);
    while (!rows.empty()) {
      size_t nl = rows.find('\n');
      if (nl == std::string_view::npos) __builtin_trap();  // chunks hold whole rows only
      std::string_view out;
      size_t fields;
      canon.Canonicalize(rows.substr(0, nl), scratch, &out, &fields);
      rows.remove_prefix(nl + 1);
    }
  }
  return 0;
}
