// Temporal consistency: per table and timestamp column the earliest and
// latest values, the values in the future (later than now + skew, with
// sample keys), NULL and unparseable values, and the rows whose record time
// lies inside the recovery window. Every table is planned, as its row count
// is reported with it.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeTemporalCheck(const CheckOptions& options);

}  // namespace vouch::drill
