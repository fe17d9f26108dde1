// Readers for pg_dump archives: custom (-Fc), directory (-Fd) and tar (-Ft)
// formats (docs/formats.md, the pg_dump sections; PostgreSQL's pg_backup_archiver.c and
// pg_backup_{custom,directory,tar}.c are the truth). Each reads the TOC,
// learns every table's columns and timestamptz columns from its DDL, then
// reads and fully decompresses every data block or file — independent ones
// in parallel — and hands out the COPY rows like any TableStreamReader. What
// the archive says about itself (versions, TOC, foreign keys, large objects)
// is in facts(); structural damage (a block whose id does not match its TOC
// entry, bytes no block accounts for, a missing or unreferenced data file) is
// an error naming the file and byte offset.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vouch/hashing/u128.h"
#include "vouch/readers/archive_toc.h"
#include "vouch/readers/dump_schema.h"
#include "vouch/readers/random_access_file.h"
#include "vouch/readers/table_filter.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

struct ArchiveOptions {
  int jobs = 1;  // threads decompressing data blocks/files
  // Read only these tables ("schema.name" as QualifiedName()); empty = all.
  std::vector<std::string> only_tables;
  // pg_dump-style selection; unselected tables are not read. Null = all.
  const TableFilter* filter = nullptr;
  // Files of a directory archive that are not part of it (its checksum
  // sidecar): not reported as unreferenced.
  std::vector<std::string> foreign_files;
  // A COPY line longer than this is an error (PostgreSQL writes at most 1 GB
  // per line); fuzzing lowers it.
  size_t max_row_bytes = size_t{1} << 30;
  // False: the schema objects are not gathered and schema() is null (a
  // comparison of rows only: 400,000 objects at 100,000 tables).
  bool schema = true;
};

// What an archive says about itself, for reports.
struct ArchiveFacts {
  std::string format;  // "custom", "directory", "tar"
  ArchiveHeader header;
  std::string created;                              // "YYYY-MM-DD HH:MM:SS" in the dumping host's local time
  std::map<std::string, uint64_t> entries_by_desc;  // TOC entries by their desc
  std::vector<ForeignKey> foreign_keys;
  uint64_t table_data_entries = 0;
  // Large objects, read and decompressed to their end (not part of any table digest).
  uint64_t large_objects = 0;
  uint64_t large_object_bytes = 0;
  // The sum of H(large object) over them (vouch/hashing/large_object_hash.h):
  // any changed byte or OID changes it, whatever the order they were read in.
  U128 large_object_sum;
  uint64_t data_files = 0;     // directory/tar: data files read (large objects' included)
  uint64_t archive_bytes = 0;  // bytes of archive files on disk
  // ArchiveToc::sha256: changes with any byte of the header and TOC but the
  // data offsets (compare it with an earlier run's to see a changed TOC).
  std::string toc_sha256;
};

class ArchiveReader : public TableStreamReader {
 public:
  // A copy, safe to take while workers still run (after an error); complete
  // once NextChunk returned false.
  virtual ArchiveFacts facts() const = 0;
};

// True when a file's first bytes are those of a custom (PGDMP) or tar
// (ustar) archive.
bool StartsLikeArchive(std::string_view head);
// True when `path` is a directory or a file that StartsLikeArchive.
bool LooksLikeArchive(const std::string& path);

// Opens a custom, directory or tar archive at `path`.
Result<std::unique_ptr<ArchiveReader>> OpenArchive(const std::string& path, const ArchiveOptions& options);

// Opens a custom-format or tar archive held by `file` (tests and fuzzing).
Result<std::unique_ptr<ArchiveReader>> OpenCustomArchive(std::unique_ptr<RandomAccessFile> file,
                                                         const ArchiveOptions& options);
Result<std::unique_ptr<ArchiveReader>> OpenTarArchive(std::unique_ptr<RandomAccessFile> file,
                                                      const ArchiveOptions& options);

}  // namespace vouch
