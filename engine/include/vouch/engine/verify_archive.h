// vouch verify-archive: proves a pg_dump archive (custom, directory or tar)
// is readable and complete without restoring it: header and TOC parsed and
// checked, every data block or file read to its end and fully decompressed,
// every COPY row checked against its column count and hashed; reports what
// the archive says about itself and each table's rows and content hash (the
// same digest as the live database's), and verifies a checksum sidecar.
#pragma once

#include <optional>
#include <string>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/readers/archive_reader.h"
#include "vouch/readers/checksums.h"

namespace vouch {

struct VerifyArchiveOptions {
  DigestOptions digest;
  std::string checksums;  // a sha256sum/md5sum-style file to verify too; empty = none
};

struct ArchiveVerification {
  std::string path;
  // When the archive is damaged (a corrupt or truncated part): a Damaged
  // finding whose detail names the file, table and byte offset. Then
  // `digest` is empty.
  std::optional<Finding> damage;
  bool toc_read = false;  // facts hold the header and TOC
  ArchiveFacts facts;
  DigestReport digest;
  std::optional<ChecksumReport> checksums;
  // Archive files the checksum file does not list (it may be for another file).
  std::vector<std::string> not_covered;

  // Findings: the damage, every checksum line that does not hold, archive
  // files the checksum file does not cover. Unverified: tables not hashed.
  Outcome outcome() const;
  // Every table read and hashed: `digest` is the archive's.
  bool ContentComplete() const { return !damage && digest.Complete(); }
};

// Errors (exit 3): the archive cannot be opened or is of an unsupported kind
// or version; the checksum file cannot be read; a usage error (exit 2).
// Damage is a finding, in the result.
Result<ArchiveVerification> VerifyArchive(const std::string& path, const VerifyArchiveOptions& options);

// The same for an archive already opened (or that failed to open), e.g. one
// in memory (OpenCustomArchive over MakeMemoryFile); `name` names it in the
// result. No checksum file.
Result<ArchiveVerification> VerifyArchive(Result<std::unique_ptr<ArchiveReader>> reader, const std::string& name,
                                          const DigestOptions& options);

}  // namespace vouch
