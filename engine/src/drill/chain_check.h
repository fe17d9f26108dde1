// Audit chains (chain/): every link of a --chain table recomputed,
// continuity checked order-free, the head hash, and the gaps of the chain's
// sequence, suspicious inside the recovery window.
//
// Memory: not held to CheckOptions::memory_limit. ChainContinuity keeps two
// 64-bit fingerprints per sequence value in the chain's span (about 16 bytes
// a row, in 1 MiB pages) and the gap tracker one bit per value: per-row
// state, unlike the orphan check's key sets, which spill (spill_set.h).
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeChainCheck(const CheckOptions& options);

}  // namespace vouch::drill
