// vouch merge: adds the manifests of the N shards of one source (written by
// `vouch digest SOURCE --shard k/N -o part-k.json`) into the manifest of the
// whole source. Digests are sums, so the merged FINAL_VALIDATION_HASH equals a
// single run's. Every shard 0..N-1 must be there exactly once, from the same
// source, split the same way, with the same tables and columns.
#pragma once

#include <string>
#include <vector>

#include "vouch/engine/digest_pipeline.h"

namespace vouch {

Result<DigestReport> MergeShards(const std::vector<std::string>& manifest_paths);
// The same over manifests already loaded, each with the name to give it in
// messages.
Result<DigestReport> MergeShards(std::vector<std::pair<std::string, DigestReport>> manifests);

// Parses "k/N" (0 <= k < N <= 65536).
Result<std::pair<uint32_t, uint32_t>> ParseShard(const std::string& text);

}  // namespace vouch
