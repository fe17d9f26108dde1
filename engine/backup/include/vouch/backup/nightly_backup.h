// The nightly "is last night's backup there and readable?" check, replacing
// the daily backup-verification shell scripts operators run: in a directory of
// backups, the newest one (file or subdirectory, by modification time)
// exists, is younger than a maximum age, holds the expected files, is not
// suspiciously smaller than the one before it, and every .gz/.zst/.lz4/.bz2 file
// in it decompresses to its end (gzip -t, zstd -t, lz4 -t — with vouch's
// own decoders, in parallel).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vouch/base/finding.h"
#include "vouch/status.h"

namespace vouch {

struct NightlyOptions {
  double max_age_seconds = 24 * 3600;  // older is a failed "age" check
  // Glob patterns (fnmatch) that must each match at least one file of the
  // newest backup: against its path relative to the backup directory, or
  // against the file name when the pattern has no '/'. A backup that is a
  // single file is matched by its own name.
  std::vector<std::string> expected;
  // The newest backup must be at least this fraction of the previous one's
  // size (0.5: half); 0 turns the check off.
  double min_size_ratio = 0.5;
  // Only entries of the parent directory whose name matches this glob are
  // backups (e.g. "*.dump.gz"); empty = every entry not starting with '.'.
  std::string name_pattern;
  bool check_compressed = true;  // decompress every .gz/.zst/.lz4/.bz2 file to its end
  int jobs = 0;                  // 0 = all cores
  std::function<double()> now;   // unix seconds; default the system clock
};

// One check of the newest backup, with the facts its verdict rests on (the
// report's fields hold the rest: sizes, age, the limits).
struct NightlyCheck {
  enum class Kind : uint8_t {
    kExists,      // the newest backup exists and holds at least one file
    kAge,         // it is no older than the limit
    kExpected,    // a pattern matches at least one of its files
    kSize,        // at least min_size_ratio of the previous backup's size
    kDecompress,  // a compressed file decompresses to its end
    kComplete,    // a repository still holds the files or WAL its newest backup needs
  } kind = Kind::kExists;
  bool ok = false;
  std::string subject;            // the pattern (kExpected) or file (kDecompress); "" otherwise
  uint64_t matches = 0;           // kExpected: files the pattern matches; kComplete: present
  uint64_t needed = 0;            // kComplete: files or segments needed
  uint64_t file_bytes = 0;        // kDecompress: the compressed file's size
  uint64_t decoded_bytes = 0;     // kDecompress: what it decompressed to
  std::string damage;             // kDecompress: the decoder's error; kComplete: what is missing
  std::string compression;        // kDecompress: what the file's name says ("gzip")
  std::string found_compression;  // kDecompress: what its first bytes say, when that differs ("" none known)
  bool compression_mismatch = false;
};

// "exists", "age", "expected", "size", "decompress", "complete".
const char* NightlyCheckName(NightlyCheck::Kind kind);

struct NightlyReport {
  std::string parent_dir;
  // A repository's kind and name ("pgBackRest stanza main", "Barman server
  // pg"); "" for a directory of backup files.
  std::string repository;
  std::string newest;  // path of the newest backup; empty when there is none
  bool newest_is_dir = false;
  double newest_mtime = 0;  // unix seconds
  double age_seconds = 0;
  uint64_t newest_bytes = 0;  // file size, or the sum of a directory's files
  uint64_t newest_files = 0;
  std::string previous;  // the one before it; empty when none
  uint64_t previous_bytes = 0;
  uint64_t compressed_files = 0;  // decompressed to their end without error
  uint64_t compressed_bytes = 0;  // the bytes they decompress to
  std::vector<NightlyCheck> checks;
  double max_age_seconds = 0;  // the limits the checks were made with
  double min_size_ratio = 0;
  std::string name_pattern;
  double seconds = 0;
  double finished_at = 0;

  // A finding (CheckFailed, named after the check) for every failed check;
  // a report without a single check is one too.
  Outcome outcome() const;
  size_t Failed() const;
};

// Errors: parent_dir cannot be listed (kIoError), an option out of range
// (kInvalidArgument), a file that exists but cannot be read (kIoError).
// A damaged compressed file is a failed check, not an error.
Result<NightlyReport> CheckNewestBackup(const std::string& parent_dir, const NightlyOptions& options);

// The nightly checks of a backup tool's repository, on its own records:
// its newest backup exists (a pgBackRest set in backup.info; a Barman
// backup, whose status must be DONE), is younger than max_age_seconds (its
// stop time), is at least min_size_ratio of the previous one's database
// size, and the repository still holds what it needs ("complete": every
// file its manifest lists, of its stored size; every WAL segment from its
// start to its stop), without reading the files (verify-backup --pgbackrest
// or --barman does that).
struct NightlyRepository {
  enum class Kind : uint8_t { kPgbackrest, kBarman } kind = Kind::kPgbackrest;
  std::string dir;          // repo1-path; a Barman server's directory
  std::string stanza;       // pgBackRest
  std::string cipher_pass;  // an encrypted pgBackRest repository's
};

// Errors: the repository or stanza is not there (kInvalidArgument), its
// records damaged (kCorrupt), an option out of range. expected patterns
// and check_compressed are for directories of files (kInvalidArgument).
Result<NightlyReport> CheckNewestInRepository(const NightlyRepository& repo, const NightlyOptions& options);

}  // namespace vouch
