#include "vouch/engine/digest_pipeline.h"

#include <tbb/concurrent_queue.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "vouch/engine/manifest.h"
#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/readers/archive_reader.h"
#include "vouch/readers/binary_copy.h"
#include "vouch/readers/canonical_row.h"
#include "vouch/readers/live_reader.h"
#include "vouch/readers/plain_dump_reader.h"

namespace vouch {
namespace {

constexpr size_t kInFlightBytes = size_t{96} << 20;

// One chunk of rows and what hashing it gave.
struct Part {
  RowChunk chunk;
  std::vector<U128> hashes;
  Status error;
  bool unhashable = false;  // error is a row vouch cannot hash, not damage
  std::unique_ptr<RowObserver::Partial> observed;
  // In the table's last chunk: how many chunks of the table were read in all.
  uint32_t table_chunks = 0;
};

// What travels through the pipeline: one chunk, or the chunks of several
// small tables (a table of a few rows must not pay a pipeline hand-off of
// its own: 100,000 of them would cost more than their rows).
struct Slot {
  std::vector<Part> parts;
  size_t used = 0;  // parts[0, used) hold this trip's chunks
  CanonicalScratch scratch;
  std::string converted;  // a live reader's binary rows as text (ConvertBinaryChunk)
};

// Small tables share a slot up to these limits (parts, bytes of rows).
constexpr size_t kMaxPartsPerSlot = 16;
constexpr size_t kSmallTables = 32 << 10;

// The digests of one run: tables being read hold a digest at full resolution
// (or their row hashes); a table whose chunks have all been folded is
// finished, i.e. folded down to its final size (TableDigest::Finish), so that
// memory follows the tables in flight, not the number of tables.
class Digests {
 public:
  explicit Digests(uint32_t max_buckets) : max_buckets_(max_buckets) {}

  // Fold stage: adds a chunk's row hashes to table `t`. True when that was
  // the table's last chunk (the table is finished).
  bool Fold(uint32_t t, const std::vector<U128>& hashes, uint32_t table_chunks) {
    if (done_.size() <= t) done_.resize(t + 1);
    auto it = open_.try_emplace(t, max_buckets_).first;
    Open& o = it->second;
    for (const U128& h : hashes) o.digest.AddRowHash(h);
    ++o.folded;
    if (table_chunks != 0) o.expected = table_chunks;
    if (o.folded != o.expected) return false;
    Close(it);
    return true;
  }

  // The digest of table `t`, finished; empty when it had no rows.
  TableDigest Take(uint32_t t) {
    auto it = open_.find(t);
    if (it != open_.end()) Close(it);  // a reader that did not mark its tables' ends
    if (t < done_.size() && done_[t]) return std::move(*done_[t]);
    TableDigest empty(max_buckets_);
    empty.Finish();
    return empty;
  }

 private:
  struct Open {
    explicit Open(uint32_t max_buckets) : digest(max_buckets) {}
    TableDigest digest;
    uint32_t folded = 0;
    uint32_t expected = 0;  // 0: the last chunk was not folded yet
  };
  void Close(std::unordered_map<uint32_t, Open>::iterator it) {
    it->second.digest.Finish();
    done_[it->first] = std::move(it->second.digest);
    open_.erase(it);
  }

  uint32_t max_buckets_;
  std::unordered_map<uint32_t, Open> open_;
  std::vector<std::optional<TableDigest>> done_;
};

// When each table's first chunk was read (input stage) and its last one
// folded (fold stage): each stage writes its own vector.
class TableTimes {
 public:
  using Clock = std::chrono::steady_clock;
  void Began(uint32_t t) {
    if (began_.size() <= t) began_.resize(t + 1);
    if (began_[t] == Clock::time_point()) began_[t] = Clock::now();
  }
  void Ended(uint32_t t) {
    if (ended_.size() <= t) ended_.resize(t + 1);
    ended_[t] = Clock::now();
  }
  void End() { end_ = Clock::now(); }  // a table not marked ended ended here
  double Seconds(size_t t) const {
    if (t >= began_.size() || began_[t] == Clock::time_point()) return 0;
    const Clock::time_point e = t < ended_.size() && ended_[t] != Clock::time_point() ? ended_[t] : end_;
    return std::chrono::duration<double>(e - began_[t]).count();
  }

 private:
  std::vector<Clock::time_point> began_, ended_;
  Clock::time_point end_;
};

// The error for a row the canonicalizer refused; `location`: where the
// table's rows lie.
Status RowError(RowCanonicalizer::Outcome outcome, const TableInfo& t, size_t field, uint64_t offset,
                const std::string& location) {
  std::string where = location + ": table " + t.QualifiedName() +
                      ": row at uncompressed byte offset " + std::to_string(offset);
  switch (outcome) {
    case RowCanonicalizer::kFieldCount:
      return Corrupt(where + " has " + std::to_string(field) + " fields, its COPY statement lists " +
                     std::to_string(t.columns.size()) + " columns");
    case RowCanonicalizer::kBadTimestamptz:
      return Corrupt(where + ": column " + t.columns[field] + " is timestamptz but its value is not one");
    case RowCanonicalizer::kBadEscape:
      return Corrupt(where + ": " +
                     (field < t.columns.size() ? "column " + t.columns[field] : "field " + std::to_string(field + 1)) +
                     " holds a backslash or carriage return that COPY never writes (damaged data)");
    case RowCanonicalizer::kNonUtcUnknownType:
      return Unsupported(where + ": column " + t.columns[field] +
                         " holds a timestamptz with a non-UTC offset inside a value whose type the dump does not "
                         "let vouch rewrite (unknown or composite type); take the dump with PGTZ=UTC");
    case RowCanonicalizer::kOk: break;
  }
  return Status::Ok();
}

// Canonicalizes and hashes every row of the chunk into slot.hashes.
// With shard_count > 1, keeps only the rows of shard `shard_index` (by their
// hash: a partition of the multiset, equal rows together).
// `check_escapes`: false for rows vouch wrote itself (converted from binary
// COPY), whose escapes are right by construction.
void HashChunk(Part& s, CanonicalScratch& scratch, const TableStreamReader& reader, const std::string& location,
               uint32_t shard_index, uint32_t shard_count, bool check_escapes) {
  s.hashes.clear();
  s.error = Status::Ok();
  s.unhashable = false;
  RowCanonicalizer canon(*s.chunk.table, check_escapes);
  ForEachRow(s.chunk, [&](std::string_view row) {
    std::string_view c;
    size_t fields = 0;
    auto outcome = canon.Canonicalize(row, scratch, &c, &fields);
    if (outcome != RowCanonicalizer::kOk) {
      const TableInfo& t = *s.chunk.table;
      std::string where = reader.DataLocation(s.chunk.table_index);
      if (where.empty()) where = t.data_location.empty() ? location : t.data_location;
      s.error = RowError(outcome, t, fields, s.chunk.offset + static_cast<uint64_t>(row.data() - s.chunk.data.data()),
                         where);
      s.unhashable = outcome == RowCanonicalizer::kNonUtcUnknownType;
      return false;
    }
    U128 h = HashRow(c);
    if (shard_count <= 1 || h.lo % shard_count == shard_index) s.hashes.push_back(h);
    return true;
  });
}

}  // namespace

std::string TableResult::QualifiedName() const { return QualifiedTableName(schema, name); }

std::string DigestReport::FinalHashHex() const { return HexEncode(final_hash.data(), final_hash.size()); }

bool DigestReport::Complete() const {
  return std::all_of(tables.begin(), tables.end(), [](const TableResult& t) { return t.not_hashed.empty(); });
}

Outcome DigestReport::outcome() const {
  Outcome o;
  for (const auto& t : tables) {
    if (!t.not_hashed.empty()) o.unverified.push_back(t.QualifiedName() + ": " + t.not_hashed);
  }
  return o;
}

void DigestReport::ComputeFinalHash() { final_hash = FinalHashWith({}); }

Sha256Digest DigestReport::FinalHashWith(std::vector<FinalChainEntry> chains) const {
  std::vector<FinalTableEntry> entries;
  entries.reserve(tables.size());
  for (const auto& t : tables) entries.push_back({t.schema, t.name, t.digest.rows(), t.digest.sum()});
  return FinalValidationHash(std::move(entries), std::move(chains), LargeObjects());
}

FinalLargeObjects DigestReport::LargeObjects() const {
  if (!large_objects || large_objects->empty()) return {};
  std::vector<FinalLargeObjectEntry> entries;
  entries.reserve(large_objects->size());
  for (const auto& lo : *large_objects) entries.push_back({lo.oid, lo.owner, lo.hash});
  return LargeObjectsDigest(std::move(entries));
}

namespace {

// A malformed row in a compressed stream is usually the symptom of damage
// that the decoder's own check (gzip CRC-32, zstd/lz4 checksums) names at the
// end of the stream: read on to report the cause, not the symptom.
Status CauseOfMalformedRow(TableStreamReader& reader, const Status& first_error, size_t chunk_size) {
  if (first_error.code() != StatusCode::kCorrupt || reader.source_info().compression == "none") return first_error;
  RowChunk rest;
  while (true) {
    auto more = reader.NextChunk(rest, chunk_size);
    if (!more.ok()) {
      return Status(more.status().code(), more.status().message() + " (first symptom: " + first_error.message() + ")");
    }
    if (!*more) break;
  }
  return first_error;
}

// The report of a source read to its end: a result per selected table
// (sorted), the unhashable ones named, and the final hash.
Result<DigestReport> AssembleReport(TableStreamReader& reader, const DigestOptions& options, Digests& digests,
                                    const std::map<uint32_t, std::string>& unhashable, int jobs, uint64_t bytes,
                                    const TableTimes& times) {
  DigestReport report;
  report.source = reader.source_info();
  if (options.shard_count >= 1 && !reader.yields_one_shard()) {
    report.source.properties["shard"] = std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count);
    report.source.properties["shard_method"] = "vouch: row hash % N";
  }
  report.jobs = jobs;
  report.bytes_read = bytes;
  report.rows_only = options.rows_only;
  if (!options.filter.empty()) {
    report.schema_not_selected = true;
  } else if (!options.rows_only) {
    SchemaCatalog schema;
    if (reader.ReleaseSchema(&schema)) report.schema = std::move(schema);
  }
  // The reader is done: its tables' names and columns move into the results.
  std::deque<TableInfo> tables = reader.ReleaseTables();
  if (!options.filter.empty()) {
    std::vector<std::pair<std::string, std::string>> seen;
    for (const auto& t : tables) {
      seen.emplace_back(t.schema, t.name);
      for (const auto& a : t.partition_ancestors) seen.emplace_back(a.schema, a.name);
    }
    auto unmatched = options.filter.UnmatchedIncludes(seen);
    if (!unmatched.empty()) {
      return InvalidArgument(reader.source_info().location + ": pattern '" + unmatched.front() + "' matches no table");
    }
  }
  report.tables.reserve(tables.size());
  // Taken from the front, so that the deque gives its blocks back while the
  // results grow (both whole at once would hold every table twice).
  for (size_t i = 0; !tables.empty(); ++i) {
    TableInfo t = std::move(tables.front());
    tables.pop_front();
    if (!options.filter.empty() && !options.filter.Selects(t)) continue;
    TableResult r{std::move(t.schema),
                  std::move(t.name),
                  {},
                  digests.Take(static_cast<uint32_t>(i)),
                  std::move(t.key_columns),
                  {},
                  std::move(t.partition_ancestors),
                  std::move(t.read_as)};
    r.seconds = times.Seconds(i);
    r.columns.reserve(t.canonical_order.size());
    for (uint32_t k : t.canonical_order) r.columns.push_back(std::move(t.columns[k]));
    auto bad = unhashable.find(static_cast<uint32_t>(i));
    if (bad != unhashable.end()) {
      r.not_hashed = bad->second;
      r.digest = TableDigest(options.buckets);
      r.digest.Finish();
    }
    report.tables.push_back(std::move(r));
  }
  std::sort(report.tables.begin(), report.tables.end(), [](const TableResult& a, const TableResult& b) {
    return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
  });
  // Sequences and large objects belong to the whole source, not to a
  // selection of its tables or a shard of its rows.
  // Rows only: none of them, but how many large objects the final hash leaves out.
  if (options.filter.empty() && options.shard_count == 0 && options.rows_only) {
    if (const auto* los = reader.large_objects()) report.large_objects_left_out = los->size();
  } else if (options.filter.empty() && options.shard_count == 0) {
    if (const auto* seqs = reader.sequences()) {
      report.sequences = *seqs;
      SortSequences(*report.sequences);
    }
    if (const auto* los = reader.large_objects()) {
      // A dump without the objects' data (--schema-only) cannot digest them.
      const auto without = std::count_if(los->begin(), los->end(), [](const LargeObjectInfo& lo) { return !lo.has_content; });
      if (without > 0) {
        report.source.properties["large_objects_without_data"] = std::to_string(without);
      } else {
        report.large_objects = *los;
        SortLargeObjects(*report.large_objects);
      }
    }
  }
  report.ComputeFinalHash();
  return report;
}

}  // namespace

Result<DigestReport> DigestTables(TableStreamReader& reader, const DigestOptions& options) {
  const int jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
  const size_t tokens = static_cast<size_t>(jobs) * 2 + 1;
  // Chunks shrink with many jobs so that the chunks in flight stay within
  // kInFlightBytes (RSS does not grow with --jobs past a few MB per job).
  const size_t chunk_size = std::min(options.chunk_size, std::max<size_t>(kInFlightBytes / tokens, 64 << 10));
  const std::string location = reader.source_info().location;
  auto start = std::chrono::steady_clock::now();
  if (options.schema_sink) reader.HandSchemaTo(options.schema_sink);

  std::vector<std::unique_ptr<Slot>> slots;
  tbb::concurrent_queue<Slot*> free_slots;
  for (size_t i = 0; i < tokens; ++i) {
    slots.push_back(std::make_unique<Slot>());
    free_slots.push(slots.back().get());
  }
  Digests digests(options.buckets);
  std::vector<uint32_t> chunks_read;  // per table (input stage only)
  std::map<uint32_t, std::string> unhashable;  // table index -> why (fold stage only)
  std::mutex error_mu;
  Status first_error;
  std::atomic<bool> failed{false};
  bool reader_failed = false;         // written by the serial input stage only
  std::vector<bool> observed_tables;  // input stage only: BeginTable was called
  uint64_t bytes = 0;
  TableTimes times;
  ProgressCounters* const progress = options.progress;
  if (progress != nullptr) progress->Start();
  auto fail = [&](const Status& st) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (first_error.ok()) first_error = st;
    failed = true;
  };

  if (options.observer != nullptr) VOUCH_RETURN_IF_ERROR(options.observer->BeginSource(reader));
  if (options.shard_count > 1 && options.observer != nullptr) {
    return InvalidArgument("--shard cannot be combined with row checks (drill)");
  }
  // Shard selection in the pipeline, unless the reader already did it.
  const uint32_t shard_count = reader.yields_one_shard() ? 1 : std::max<uint32_t>(1, options.shard_count);
  // Limits TBB's worker pool as well as this arena, so --jobs N means N threads.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(jobs));
  tbb::task_arena arena(jobs);
  // Reads one chunk into `p`; false at the end of the source or on an error
  // (then `failed` is set).
  bool source_done = false;  // input stage only
  auto read_part = [&](Part& p) -> bool {
    auto more = reader.NextChunk(p.chunk, chunk_size);
    if (!more.ok() || !*more) {
      source_done = true;  // NextChunk is not called again after its end
      if (!more.ok()) {
        reader_failed = true;
        fail(more.status());
      }
      return false;
    }
    bytes += p.chunk.size;
    const uint32_t ti = p.chunk.table_index;
    times.Began(ti);
    if (progress != nullptr) {
      const auto extent = reader.Extent();
      progress->bytes.store(bytes, std::memory_order_relaxed);
      progress->extent_done.store(extent.done, std::memory_order_relaxed);
      progress->extent_total.store(extent.total, std::memory_order_relaxed);
      progress->estimate.store(extent.estimate, std::memory_order_relaxed);
      progress->tables_total.store(reader.tables().size(), std::memory_order_relaxed);
    }
    if (chunks_read.size() <= ti) chunks_read.resize(ti + 1, 0);
    ++chunks_read[ti];
    p.table_chunks = p.chunk.last_of_table ? chunks_read[ti] : 0;
    if (!options.filter.empty() && !options.filter.Selects(*p.chunk.table)) {
      p.chunk.size = 0;  // read, not hashed
    }
    if (options.observer != nullptr && p.chunk.size > 0) {
      if (observed_tables.size() <= ti) observed_tables.resize(ti + 1, false);
      if (!observed_tables[ti]) {
        observed_tables[ti] = true;
        Status st = options.observer->BeginTable(*p.chunk.table, ti);
        if (!st.ok()) {
          reader_failed = true;
          fail(st);
          return false;
        }
      }
    }
    return true;
  };
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void, Slot*>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> Slot* {
          Slot* s = nullptr;
          if (failed || source_done || !free_slots.try_pop(s)) {
            fc.stop();
            return nullptr;
          }
          // The first chunk as usual; more while they are whole small tables.
          // Each part holds a buffer of its own: the parts' buffers stay
          // within half a chunk, so that the buffers in flight grow by half
          // at most.
          s->used = 0;
          size_t held = 0, capacity = 0;
          while (true) {
            if (s->parts.size() == s->used) s->parts.emplace_back();
            Part& p = s->parts[s->used];
            if (!read_part(p)) break;
            ++s->used;
            held += p.chunk.size;
            capacity += p.chunk.data.size();
            if (!p.chunk.last_of_table || held >= kSmallTables || capacity >= chunk_size / 2 ||
                s->used == kMaxPartsPerSlot) {
              break;
            }
          }
          if (s->used == 0 || failed) {
            free_slots.push(s);
            fc.stop();
            return nullptr;
          }
          return s;
        }) & tbb::make_filter<Slot*, Slot*>(tbb::filter_mode::parallel, [&](Slot* s) {
          for (size_t i = 0; i < s->used; ++i) {
            Part& p = s->parts[i];
            const bool converted = p.chunk.binary_columns != nullptr;
            if (converted) {
              p.error = ConvertBinaryChunk(p.chunk, s->converted)
                            .WithContext(location + ": table " + p.chunk.table->QualifiedName());
              if (!p.error.ok()) {
                p.unhashable = false;
                p.observed.reset();
                continue;
              }
            }
            HashChunk(p, s->scratch, reader, location, options.shard_index, shard_count, !converted);
            p.observed.reset();
            if (options.observer != nullptr && p.error.ok() && p.chunk.size > 0) {
              p.observed = options.observer->Scan(p.chunk);
            }
          }
          return s;
        }) & tbb::make_filter<Slot*, void>(tbb::filter_mode::serial_out_of_order, [&](Slot* s) {
          for (size_t i = 0; i < s->used; ++i) {
            Part& p = s->parts[i];
            if (p.unhashable && options.skip_unhashable_tables) {
              unhashable.emplace(p.chunk.table_index, p.error.message());
            } else if (!p.error.ok()) {
              fail(p.error);
              break;
            } else {
              const bool finished = digests.Fold(p.chunk.table_index, p.hashes, p.table_chunks);
              if (finished) times.Ended(p.chunk.table_index);
              if (progress != nullptr) {
                progress->rows.fetch_add(p.hashes.size(), std::memory_order_relaxed);
                if (finished) progress->tables_done.fetch_add(1, std::memory_order_relaxed);
              }
              if (p.observed) options.observer->Fold(p.chunk.table_index, std::move(p.observed));
              if (finished && options.observer != nullptr) options.observer->EndTable(p.chunk.table_index);
            }
          }
          free_slots.push(s);
        }));
  });
  if (failed) return reader_failed ? first_error : CauseOfMalformedRow(reader, first_error, chunk_size);
  // The chunks' buffers go back before the results are assembled (at
  // 100,000 tables the results' list is a few tens of MB of its own).
  slots.clear();
  times.End();
  if (progress != nullptr) progress->finished = true;
  auto report = AssembleReport(reader, options, digests, unhashable, jobs, bytes, times);
  if (!report.ok()) return report.status();
  report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vouch
