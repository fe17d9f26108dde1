// The header and table of contents of a pg_dump archive (custom format, and
// the toc.dat of directory and tar formats): docs/formats.md "pg_dump custom format", PostgreSQL's
// pg_backup_archiver.c (ReadHead, ReadToc) the truth. Lengths and counts in
// the file are untrusted: strings are read as their bytes arrive (a length
// larger than the file is a truncation error, never an allocation of that
// size), and every entry is read before it is believed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vouch/readers/byte_source.h"

namespace vouch {

struct ArchiveHeader {
  int version_major = 0, version_minor = 0, version_rev = 0;
  int int_size = 0, off_size = 0;
  int format = 0;             // 1 custom, 3 tar (and directory's toc.dat), 5 directory (never written)
  int compression_level = 0;  // archive versions < 1.15: 0 none, -1 zlib default, 1..9 zlib
  std::string compression;    // "none", "gzip", "lz4", "zstd"
  int created[7] = {};        // sec, min, hour, mday, mon (0-based), year (-1900), isdst
  std::string dbname, server_version, pg_dump_version;
  uint32_t Version() const { return (static_cast<uint32_t>(version_major) << 16) | (version_minor << 8) | version_rev; }
};

struct TocEntry {
  uint64_t toc_offset = 0;  // where the entry starts in the TOC's file, for messages
  int64_t dump_id = 0;
  bool had_dumper = false;
  std::string tableoid, oid, tag, desc;
  int64_t section = 0;
  std::optional<std::string> defn, drop_stmt, copy_stmt, namespace_, tablespace, tableam, owner;
  int64_t relkind = 0;
  std::vector<std::string> dependencies;
  // Custom format: where the data block is (flag 1 not set, 2 set, 3 no data).
  int offset_flag = 0;
  uint64_t offset = 0;
  // Directory/tar format: the data file name.
  std::optional<std::string> filename;
};

struct ArchiveToc {
  ArchiveHeader header;
  std::vector<TocEntry> entries;
  // SHA-256 over every byte of the header and TOC except the data offsets
  // (which a custom archive written to a file rewrites at the end): any
  // change to what the TOC says changes it.
  std::string sha256;
  // Bytes of the header and TOC: where a custom archive's data blocks start.
  uint64_t size = 0;
};

// Decodes pg_dump's ReadInt layout: bytes[0] the sign (0 or 1), then
// `int_size` bytes, least significant first. Values that do not fit int64_t
// wrap (8-byte fields are untrusted). False when the sign byte is invalid.
bool DecodeArchiveInt(const uint8_t* bytes, int int_size, int64_t* out);

// Sees each entry as soon as it is parsed, and says whether it is kept in
// ArchiveToc::entries (it may take what it needs from the entry first): a
// reader of 100,000 tables keeps only the entries with data, not every
// entry and its SQL. An error stops the parse.
using TocVisitor = std::function<Result<bool>(TocEntry& entry)>;

// Reads header and TOC from the start of `src`; leaves `src` positioned at
// the first data block (custom format). `name` is used in messages. Without
// a visitor every entry is kept.
Result<ArchiveToc> ReadArchiveToc(ByteSource& src, const std::string& name, const TocVisitor& visit = {});

}  // namespace vouch
