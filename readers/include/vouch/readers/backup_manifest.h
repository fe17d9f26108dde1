// backup_manifest of a pg_basebackup (docs/formats.md "backup_manifest"), parsed with the rules
// of PostgreSQL's own parser (src/bin/pg_verifybackup/parse_manifest.c), so
// that vouch refuses what pg_verifybackup refuses, with the same words:
// the version field first, only known fields, Manifest-Checksum last, at
// least two lines ending in a newline. Versions 1 (PostgreSQL 13-16) and 2
// (17+, adds System-Identifier) are read. Parsing streams through the JSON
// (SAX): no document tree, memory ∝ the number of files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/status.h"

namespace vouch {

enum class ManifestChecksumType { kNone, kCrc32c, kSha224, kSha256, kSha384, kSha512 };
// "NONE", "CRC32C", "SHA224", "SHA256", "SHA384", "SHA512".
const char* ManifestChecksumTypeName(ManifestChecksumType t);
// Case-insensitive, as pg_checksum_parse_type.
std::optional<ManifestChecksumType> ManifestChecksumTypeFromName(std::string_view name);
// Bytes of a checksum of that type (0 for kNone).
size_t ManifestChecksumLength(ManifestChecksumType t);

struct ManifestFile {
  std::string path;      // relative to the data directory; Encoded-Path decoded
  bool encoded = false;  // it came as Encoded-Path
  uint64_t size = 0;
  ManifestChecksumType checksum_type = ManifestChecksumType::kNone;
  // The checksum's bytes, decoded from hex. CRC32C: the CRC's 4 bytes in the
  // server's (little-endian) order: CRC 0x2247748a is "8a744722".
  std::string checksum;
};

struct ManifestWalRange {
  uint32_t timeline = 0;
  uint64_t start_lsn = 0;
  uint64_t end_lsn = 0;
};

struct BackupManifest {
  int version = 0;
  std::optional<uint64_t> system_identifier;  // version 2
  std::vector<ManifestFile> files;            // in manifest order
  std::vector<ManifestWalRange> wal_ranges;   // as listed (newest timeline first)
  std::string manifest_checksum;              // lower-case hex, as the manifest states it
  std::string computed_checksum;              // SHA-256 of the bytes it covers, lower-case hex
  bool ChecksumMatches() const { return manifest_checksum == computed_checksum; }
};

// Errors (kCorrupt), with pg_verifybackup's messages: "could not parse
// backup manifest: <reason>" for structure, and "duplicate path name in
// backup manifest", "unrecognized checksum algorithm", "invalid checksum for
// file", "manifest has no checksum", "invalid manifest checksum". A checksum
// that does not match is not an error: see ChecksumMatches().
Result<BackupManifest> ParseBackupManifest(std::string_view text);

}  // namespace vouch
