// Renderings of a restore test (vouch restore-test; vouch/restore/restore_test.h):
// the terminal report (verdict, the restore's phases with the measured RTO,
// pg_restore's errors, then the drill of the archive against the restored
// database) and complete JSON.
#pragma once

#include <string>

#include "render/kit.h"
#include "vouch/restore/restore_test.h"

namespace vouch::cli {

std::string RestoreTestText(const RestoreTestReport& report, TableList list = TableList::kAuto);
std::string RestoreTestJson(const RestoreTestReport& report);

}  // namespace vouch::cli
