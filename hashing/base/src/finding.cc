#include "vouch/base/finding.h"

namespace vouch {

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kManifest: return "manifest";
    case FindingKind::kMissing: return "missing";
    case FindingKind::kExtra: return "extra";
    case FindingKind::kSize: return "size";
    case FindingKind::kChecksum: return "checksum";
    case FindingKind::kType: return "type";
    case FindingKind::kDamaged: return "damaged";
    case FindingKind::kControl: return "control";
    case FindingKind::kSysid: return "sysid";
    case FindingKind::kPage: return "page";
    case FindingKind::kWalMissing: return "wal-missing";
    case FindingKind::kWalTruncated: return "wal-truncated";
    case FindingKind::kWalHeader: return "wal-header";
    case FindingKind::kWalSysid: return "wal-sysid";
    case FindingKind::kWalTimeline: return "wal-timeline";
    case FindingKind::kSidecar: return "sidecar";
    case FindingKind::kIncremental: return "incremental";
    case FindingKind::kLabel: return "label";
    case FindingKind::kChain: return "chain";
    case FindingKind::kArchiver: return "archiver";
    case FindingKind::kTableDiffers: return "table";
    case FindingKind::kCheckFailed: return "check";
    case FindingKind::kSequenceDiffers: return "sequence";
    case FindingKind::kLargeObjectDiffers: return "large-object";
  }
  return "unknown";
}

int ExitCode(const Outcome& outcome) {
  if (!outcome.findings.empty()) return 1;
  return outcome.Complete() ? 0 : 3;
}

}  // namespace vouch
