// Verifies a checksum sidecar the way `sha256sum -c` (or md5sum -c) does:
// every listed file must exist and hash to its listed value. Files are hashed
// in parallel. A relative name is looked up beside the sidecar first, then in
// the current directory (sha256sum -c uses only the latter).
#pragma once

#include <string>
#include <vector>

#include "vouch/readers/checksum_file.h"
#include "vouch/status.h"

namespace vouch {

struct ChecksumResult {
  ChecksumEntry entry;
  std::string path;  // where the file was found (or looked for)
  enum Outcome { kOk, kMismatch, kMissing, kUnreadable } outcome = kMissing;
  std::string actual;  // hex, when read
  std::string error;   // kMissing / kUnreadable: why
  uint64_t bytes = 0;
};

struct ChecksumReport {
  std::string sidecar;
  std::vector<ChecksumResult> results;  // in file order
  std::vector<size_t> malformed_lines;
  // True when every line verified; a file without a single well-formed line
  // is a failure, as for sha256sum -c.
  bool AllOk() const;
  size_t Failed() const;
};

const char* ChecksumOutcomeName(ChecksumResult::Outcome o);  // "OK", "FAILED", "MISSING", "UNREADABLE"

// Errors: the sidecar itself cannot be read (exit 3).
Result<ChecksumReport> VerifyChecksumFile(const std::string& sidecar, int jobs);

}  // namespace vouch
