// Partition roll-ups. A partitioned table holds no rows of its own: its leaf
// partitions do, and every report lists the leaves. A roll-up is the digest
// of a partitioned table (the partition root, or a partitioned table between
// the root and the leaves) as the sum (TableDigest::Merge) of the digests of
// the leaves under it. Roll-ups are derived from the leaves' results, so they
// never enter the final validation hash (the leaves already do).
#pragma once

#include <string>
#include <vector>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

struct PartitionRollup {
  std::string schema;
  std::string name;
  bool is_root = false;              // no partitioned table above it
  std::vector<RelationName> leaves;  // the leaf partitions under it, sorted
  uint64_t rows = 0;
  TableDigest digest;  // the merge of the leaves' digests (when computed)
  // Why `digest` is not the roll-up's (a leaf not hashed, digests that do not
  // merge); empty when it is.
  std::string not_computed;

  std::string QualifiedName() const;
};

// The roll-up of every partitioned table that `tables` name as a partition
// ancestor, sorted by (schema, name); empty when no table is a partition.
std::vector<PartitionRollup> PartitionRollups(const std::vector<TableResult>& tables);

}  // namespace vouch
