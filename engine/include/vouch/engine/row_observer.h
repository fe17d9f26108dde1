// RowObserver: a hook into the digest pipeline for checks that look at the
// rows themselves (audit chains, gaps, orphans, temporal; engine/drill_checks.h)
// in the same single pass that hashes them. Rows reach it in the source's COPY
// text (TableInfo::columns order), chunk by chunk, in any order, from parallel
// workers; partial results are folded serially. Memory is the observer's own
// business: it must not keep rows.
#pragma once

#include <cstdint>
#include <memory>

#include "vouch/readers/table_stream.h"
#include "vouch/status.h"

namespace vouch {

class RowObserver {
 public:
  struct Partial {
    virtual ~Partial() = default;
  };
  virtual ~RowObserver() = default;
  // Once, before the first chunk: the source being read (its foreign keys).
  virtual Status BeginSource(const TableStreamReader& reader) = 0;
  // Serial, once per table, before any chunk of it is scanned. An error ends
  // the run (e.g. a configured column the table lacks).
  virtual Status BeginTable(const TableInfo& table, uint32_t table_index) = 0;
  // Parallel: looks at every row of `chunk`; returns what Fold needs (null
  // when nothing). Must not allocate per row.
  virtual std::unique_ptr<Partial> Scan(const RowChunk& chunk) const = 0;
  // Serial, in any chunk order.
  virtual void Fold(uint32_t table_index, std::unique_ptr<Partial> partial) = 0;
  // Serial (Fold's stage), once the table's last chunk was folded, when the
  // reader marks its tables' ends (RowChunk::last_of_table): no chunk of it
  // is scanned or folded any more, and what the observer keeps only to scan
  // the table may go (at 100,000 tables, the difference between memory that
  // follows the tables in flight and memory that follows all of them).
  virtual void EndTable(uint32_t /*table_index*/) {}
};

}  // namespace vouch
