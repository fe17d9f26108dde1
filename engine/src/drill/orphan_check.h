// Orphans for every foreign key: the source's own (catalog or dump DDL), the
// other side's (a restore that lost a constraint is still checked against
// it) and declared ones (--fk). Parent keys and child references are kept as
// 64-bit hashes (8 bytes a row, never the rows), in SpillSets (spill_set.h)
// that go to sorted runs on disk beyond CheckOptions::memory_limit, and
// compared at the end by merging them; the counts and samples are the same
// in memory or spilled. Sample child keys come from a second read of only the
// child tables that have orphans.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeOrphanCheck(const CheckOptions& options);

}  // namespace vouch::drill
