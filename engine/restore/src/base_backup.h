// restore-test of a plain base backup (internal): see restore_test.h.
#pragma once

#include <string>

#include "scratch_cluster.h"
#include "vouch/restore/restore_test.h"

namespace vouch::restore {

// A plain base backup (a directory with backup_label and PG_VERSION) or a
// tar one (a directory with base.tar, optionally .gz/.zst/.lz4).
bool IsBaseBackup(const std::string& path);

// Restores the base backup in options.backup into a scratch directory made
// with `base` (its parent, keep and user), to options.target, and proves it
// against the expected manifest.
Result<RestoreTestReport> RunBaseBackupTest(const RestoreTestOptions& options, const ScratchOptions& base);

}  // namespace vouch::restore
