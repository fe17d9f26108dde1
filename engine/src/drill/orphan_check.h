// Orphans for every foreign key: the source's own (catalog or dump DDL), the
// other side's (a restore that lost a constraint is still checked against
// it) and declared ones (--fk). Parent keys and child references are kept as
// 64-bit hashes (8 bytes a row, never the rows) and compared at the end;
// sample child keys come from a second read of only the child tables that
// have orphans.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeOrphanCheck(const CheckOptions& options);

}  // namespace vouch::drill
