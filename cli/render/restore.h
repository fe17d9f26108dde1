// Renderings of a restore test (vouch restore-test; vouch/restore/restore_test.h):
// the terminal report (verdict, the restore's phases with the measured RTO,
// pg_restore's errors, then the drill of the archive against the restored
// database), Markdown, JUnit and complete JSON.
#pragma once

#include <string>

#include "render/kit.h"
#include "vouch/restore/restore_test.h"

namespace vouch::cli {

std::string RestoreTestText(const RestoreTestReport& report, TableList list = TableList::kAuto);
std::string RestoreTestJson(const RestoreTestReport& report);
// Markdown: the restore (phases, RTO, errors) as its own section, then the
// drill's DR report.
std::string RestoreTestMarkdown(const RestoreTestReport& report, TableList list = TableList::kAuto);
// JUnit XML: a testsuite "vouch restore-test" (the globals, pg_restore, the
// RTO target), then the drill's testsuite, in one <testsuites>.
std::string RestoreTestJUnit(const RestoreTestReport& report);

}  // namespace vouch::cli
