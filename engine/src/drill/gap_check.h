// Sequence gaps on --gap-column columns: every integer value tracked, the
// missing runs found at the end, suspicious from --gap-threshold on or
// inside the recovery window.
//
// Memory: not held to CheckOptions::memory_limit, and small beside it: the
// tracker keeps one bit per value in the column's span (8 KiB pages of 65536
// values, made on first touch), 125 MB for a dense billion-value sequence,
// never the rows. Values spread far apart cost a page each.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeGapCheck(const CheckOptions& options);

}  // namespace vouch::drill
