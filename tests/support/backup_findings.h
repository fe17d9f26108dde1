// Test helpers over a base-backup verification's findings.
#pragma once

#include <string>

#include "vouch/backup/verify_backup.h"

namespace vouch::testing {

// "kind:path kind:path ..." of a verification's findings, in their order.
inline std::string Kinds(const BackupVerification& v) {
  std::string k;
  for (const auto& f : v.findings) k += (k.empty() ? "" : " ") + std::string(FindingKindName(f.kind)) + ":" + f.subject;
  return k;
}

}  // namespace vouch::testing
