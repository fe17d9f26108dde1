// Sequences and large objects of two digests, compared (compare.h):
// internal to engine/, called by Compare after pass 1.
#pragma once

#include <cstddef>

#include "vouch/engine/compare.h"

namespace vouch {

void CompareSequences(CompareReport& report);
void CompareLargeObjects(CompareReport& report, size_t max_keys);

}  // namespace vouch
