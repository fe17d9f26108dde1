#include "vouch/engine/partitions.h"

#include <algorithm>
#include <map>

namespace vouch {

std::string PartitionRollup::QualifiedName() const { return QualifiedTableName(schema, name); }

std::vector<PartitionRollup> PartitionRollups(const std::vector<TableResult>& tables) {
  std::map<RelationName, PartitionRollup> by_name;
  for (const TableResult& t : tables) {
    for (size_t i = 0; i < t.partition_ancestors.size(); ++i) {
      const RelationName& a = t.partition_ancestors[i];
      auto [it, added] = by_name.try_emplace(a);
      PartitionRollup& r = it->second;
      if (added) {
        r.schema = a.schema;
        r.name = a.name;
        r.is_root = i + 1 == t.partition_ancestors.size();
        r.digest = t.digest;
      } else if (r.not_computed.empty()) {
        r.digest.Merge(t.digest);  // at the coarser of the two resolutions
      }
      r.leaves.push_back({t.schema, t.name});
      r.rows += t.digest.rows();
      if (!t.not_hashed.empty() && r.not_computed.empty()) {
        r.not_computed = "leaf " + t.QualifiedName() + " was not hashed";
      }
    }
  }
  std::vector<PartitionRollup> out;
  out.reserve(by_name.size());
  for (auto& [name, r] : by_name) {
    std::sort(r.leaves.begin(), r.leaves.end());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace vouch
