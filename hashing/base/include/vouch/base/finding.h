// Findings and outcomes, shared by every command. A finding is something
// wrong with what was verified (a missing file, a changed row, a broken
// chain link): the product's output, rendered by cli/. A Status error is
// something that kept vouch from verifying (an unreadable file, a bad option)
// and never a finding. An Outcome is what every command's result reduces to,
// and ExitCode() is the one mapping from it to the process's exit code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vouch {

enum class FindingKind : uint8_t {
  // Base backups (verify-backup); the names are the JSON and Prometheus kinds.
  kManifest,      // "manifest": backup_manifest missing, unparseable, or its checksum wrong
  kMissing,       // "missing": listed in the manifest, not in the backup
  kExtra,         // "extra": in the backup, not listed
  kSize,          // "size": size differs from the manifest's
  kChecksum,      // "checksum": content differs from the manifest's checksum
  kType,          // "type": neither a regular file nor a directory
  kDamaged,       // "damaged": a tar, compressed file or archive that is corrupt or ends early
  kControl,       // "control": global/pg_control unreadable or its CRC wrong
  kSysid,         // "sysid": the manifest's System-Identifier is not pg_control's
  kPage,          // "page": a data page whose checksum or header is wrong
  kWalMissing,    // "wal-missing"
  kWalTruncated,  // "wal-truncated"
  kWalHeader,     // "wal-header"
  kWalSysid,      // "wal-sysid"
  kWalTimeline,   // "wal-timeline"
  kSidecar,       // "sidecar": a line of a checksum file that does not hold
  kIncremental,   // "incremental": an INCREMENTAL.* file whose header is wrong
  kLabel,         // "label": backup_label that does not parse
  kChain,         // "chain": backups that do not make a chain pg_combinebackup would combine
  kArchiver,      // "archiver": pg_stat_archiver says archiving fails, or its last segment is too old
  // Tables (compare, drill): a table whose content differs between the sides.
  kTableDiffers,  // "table"
  // A failed check of a drill or of the nightly backup checks; the subject
  // names the check.
  kCheckFailed,  // "check"
  // Compare: a sequence missing, extra, behind or redefined; large objects
  // missing, extra or changed (the subject names them).
  kSequenceDiffers,     // "sequence"
  kLargeObjectDiffers,  // "large-object"
};

// The stable name of a kind ("wal-missing"), as JSON and Prometheus print it.
std::string_view FindingKindName(FindingKind kind);

struct Finding {
  FindingKind kind = FindingKind::kCheckFailed;
  // What the finding is about: a path relative to the data directory, a tar
  // file, a WAL segment, a table, a check's name.
  std::string subject;
  std::string detail;  // what was expected and what was found
};

// What a command's result comes to.
struct Outcome {
  std::vector<Finding> findings;
  // Checks asked for and not made, or content not fully read, and why: the
  // result is then not a full verification, whatever was found.
  std::vector<std::string> unverified;
  bool Complete() const { return unverified.empty(); }
  bool Verified() const { return findings.empty() && Complete(); }
};

// The exit code of an outcome (docs/design.md "Exit codes"): 1 when there are
// findings, else 3 when something asked for was not verified, else 0.
// (2, a usage error, and 3 for an error that stopped the run, come from a
// Status, never from an outcome.)
int ExitCode(const Outcome& outcome);

}  // namespace vouch
