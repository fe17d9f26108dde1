// libFuzzer target: the custom-format and tar archive readers — block and
// member framing, decompression, COPY data — on arbitrary bytes. The first
// byte picks the format and whether two workers read in parallel.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/readers/archive_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  vouch::ArchiveOptions options;
  options.jobs = (data[0] & 2) ? 2 : 1;
  options.max_row_bytes = 1 << 20;
  auto file = vouch::MakeMemoryFile(std::string(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz");
  auto reader = (data[0] & 1) ? vouch::OpenTarArchive(std::move(file), options)
                              : vouch::OpenCustomArchive(std::move(file), options);
  if (!reader.ok()) return 0;
  vouch::RowChunk chunk;
  while (true) {
    auto more = (*reader)->NextChunk(chunk, 4096);
    if (!more.ok() || !*more) break;
    if (chunk.size == 0 || chunk.data[chunk.size - 1] != '\n') __builtin_trap();  // whole rows only
    if (chunk.table_index >= (*reader)->tables().size()) __builtin_trap();
  }
  return 0;
}
