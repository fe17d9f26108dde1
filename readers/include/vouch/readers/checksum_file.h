// Checksum sidecars as sha256sum/md5sum write them (docs/formats.md "Checksum sidecars"): lines
// "HEX  NAME" (text mode), "HEX *NAME" (binary mode), or with --tag
// "SHA256 (NAME) = HEX"; a line starting with '\' has its name escaped (\\,
// \n, \r). Lines starting with '#' are comments, as for `sha256sum -c`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/hashing/evp_hash.h"

namespace vouch {

struct ChecksumEntry {
  size_t line = 0;  // 1-based
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  std::string hex;   // lower case
  std::string name;  // unescaped
};

struct ChecksumFile {
  std::vector<ChecksumEntry> entries;
  std::vector<size_t> malformed_lines;  // 1-based; `sha256sum -c` warns about these
};

ChecksumFile ParseChecksumFile(std::string_view text);

}  // namespace vouch
