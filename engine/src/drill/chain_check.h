// Audit chains (chain/): every link of a --chain table recomputed,
// continuity checked order-free, the head hash, and the gaps of the chain's
// sequence, suspicious inside the recovery window.
#pragma once

#include <memory>

#include "drill/row_check.h"

namespace vouch::drill {

std::unique_ptr<RowCheck> MakeChainCheck(const CheckOptions& options);

}  // namespace vouch::drill
