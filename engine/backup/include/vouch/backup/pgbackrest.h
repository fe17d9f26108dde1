// verify-backup --pgbackrest: a backup set in a pgBackRest repository,
// verified deeper than `pgbackrest verify`: every file the set's manifest
// lists (in this set or, by reference, in the full and differential sets
// before it) read from the repository and decompressed to its end, its
// repository bytes against the manifest's "rck" SHA-1, its content against
// its size and SHA-1; with page checksums, every data page; and every WAL
// segment the set needs read from the repository's archive with its page
// headers, system identifier and timeline checked (vouch/readers/wal.h).
// The result is a BackupVerification, rendered as verify-backup's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vouch/backup/verify_backup.h"
#include "vouch/readers/pgbackrest.h"
#include "vouch/status.h"

namespace vouch {

struct PgbackrestTarget {
  std::string repo;  // repo1-path: holds backup/STANZA and archive/STANZA
  std::string stanza;
  std::string set;  // a backup label; "" = the newest set
  // repo1-cipher-pass of an encrypted repository (never printed); it opens
  // backup.info and archive.info, whose own passphrases open the rest.
  std::string cipher_pass;
};

// Errors: the repository or stanza missing (exit 2); backup.info,
// archive.info or the set's manifest damaged (Corrupt, with file and line;
// exit 1); an encrypted repository or a block-incremental set
// (Unsupported, exit 3); an encrypted repository without the passphrase
// (Unsupported) or with one that does not open it (IoError), exit 3. Damage to the set's files and WAL is findings.
// Bundled sets (repo-bundle) are read from their bundles.
Result<BackupVerification> VerifyPgbackrest(const PgbackrestTarget& target, const VerifyBackupOptions& options);

// A set as the nightly check sees it (verify-backup --newest-in on a
// repository): backup.info's record of it and of the set before it, and
// whether the repository still holds what it needs, without reading it:
// every file its manifest lists (a file of its stored size, or a bundle
// long enough), every WAL segment from its start to its stop.
struct PgbackrestSetPresence {
  std::string dir;  // the set's directory
  PgbrSet set;
  std::optional<PgbrSet> previous;  // the set before it in backup.info
  std::string manifest_problem;     // why its manifest could not be used; "" when it was
  uint64_t files_listed = 0, files_present = 0;
  std::vector<std::string> files_missing;  // the first few, with what is wrong
  std::string wal_first, wal_last;         // segment names
  uint64_t wal_needed = 0, wal_present = 0;
  std::vector<std::string> wal_missing;  // the first few
};

// Errors as VerifyPgbackrest's; a damaged manifest is manifest_problem; a
// stanza without a set gives set.label "".
Result<PgbackrestSetPresence> InspectPgbackrestSet(const PgbackrestTarget& target);

// The WAL a restore of the set replays: every segment of the repository's
// archive of its cluster from the set's first segment on (every timeline),
// and the history files, written decrypted and decompressed into directory
// `dest` under their own names (a restore_command's archive). Returns the
// segments written. Errors: as VerifyPgbackrest's; an unusable manifest or
// archive (kCorrupt, kInvalidArgument); damage in a segment (its decoder's).
Result<uint64_t> ExportPgbackrestWal(const PgbackrestTarget& target, const std::string& dest);

}  // namespace vouch
