// B-tree index checks of a live database with PostgreSQL's amcheck
// (vouch drill --amcheck). COPY never reads an index: a restore whose text
// indexes were built under another collation (another glibc or ICU
// version), or an index page damaged on disk, gives back the same rows, and
// only an index check shows it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch {

struct IndexCheckFailure {
  std::string index, table;  // qualified, quoted where SQL needs it
  std::string error;         // amcheck's message (and detail)
};

struct IndexCheckResult {
  uint64_t checked = 0;  // B-tree indexes checked
  std::vector<IndexCheckFailure> failures;
};

// Runs bt_index_check(index, heapallindexed => true) on every valid B-tree
// index outside the system schemas, in OID order; an index that fails is a
// finding, the run goes on. The amcheck extension is created when it is
// missing (a superuser, or amcheck's trusted install) and dropped again at
// the end, so that the database is left as it was. Errors: cannot connect,
// amcheck cannot be created.
Result<IndexCheckResult> CheckBtreeIndexes(const std::string& conninfo);

}  // namespace vouch
