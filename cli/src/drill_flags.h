// The drill's check flags, shared by `vouch drill` and `vouch restore-test`
// (which runs the same checks on the database it restored): audit chains,
// gap and time columns, declared foreign keys, times and targets, samples
// and the memory limit. Registered on a subcommand, then applied to
// DrillOptions; a bad value is a usage error naming the flag.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "vouch/engine/drill.h"
#include "vouch/status.h"

namespace vouch::cli {

struct DrillFlags {
  std::vector<std::string> chains, chain_configs, gap_columns, fks, time_columns;
  uint64_t gap_threshold = 1;
  bool no_catalog_fks = false;
  std::string now, future_skew = "5m", recovery_window, rpo_target, rto_target, drill_start, drill_end;
  size_t max_samples = 10;
  std::string memory_limit = "256MB";
};

// The check flags (not --rto-target, --drill-start and --drill-end, which
// are the drill's own).
void AddDrillCheckFlags(CLI::App* cmd, DrillFlags& f);
// Everything the flags say into `d`: its checks, times and targets.
Status ApplyDrillFlags(const DrillFlags& f, DrillOptions& d);

}  // namespace vouch::cli
