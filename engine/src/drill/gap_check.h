// Sequence gaps on --gap-column columns: every integer value tracked, the
// missing runs found at the end, suspicious from --gap-threshold on or
// inside the recovery window.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeGapCheck(const CheckOptions& options);

}  // namespace vouch::drill
