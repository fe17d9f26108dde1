// Audit chains (chain/): every link of a --chain table recomputed,
// continuity checked order-free, the head hash, and the gaps of the chain's
// sequence, suspicious inside the recovery window.
//
// Memory: ChainContinuity keeps two 64-bit fingerprints per sequence value in
// the chain's span (about 16 bytes a row, in 1 MiB pages). The chains share
// half of CheckOptions::memory_limit (the orphan check's key sets the other
// half, row_check.cc); beyond it the least recently touched pages go to a
// temporary file under CheckOptions::temp_dir and come back when touched.
// The gap tracker keeps one bit per value (125 MB for a billion values).
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeChainCheck(const CheckOptions& options);

}  // namespace vouch::drill
