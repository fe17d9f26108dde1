// "Sequence behind its column", the row part: the largest value of every
// column a sequence feeds (its OWNED BY column, or one whose default calls
// nextval() on it), taken from the rows of the digest pass itself. The
// drill (drill.cc) then sets each side's maxima against that side's
// sequence states: a sequence whose next value is at or below its column's
// largest value makes the first insert after a failover collide.
//
// Memory: one slot per fed column; nothing per row.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeSequenceColumnCheck(const CheckOptions& options);

}  // namespace vouch::drill
