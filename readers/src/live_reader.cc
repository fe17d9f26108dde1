#include "vouch/readers/live_reader.h"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "live_schema.h"
#include "vouch/hashing/large_object_hash.h"
#include "vouch/readers/binary_copy.h"
#include "vouch/readers/paused_standby.h"
#include "vouch/readers/sequences.h"

namespace vouch {
namespace {

constexpr size_t kFirstChunkBytes = size_t{64} << 10;  // a chunk buffer's first size

// Every sequence's definition and the column it is OWNED BY (serial) or is
// the identity of, the way pg_dump selects them (no system schema, no
// extension member).
const char* const kDiscoverSequences =
    "SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, "
    "s.seqmin, s.seqmax, s.seqcache, s.seqcycle, COALESCE(tn.nspname, ''), COALESCE(t.relname, ''), "
    "COALESCE(a.attname, '') "
    "FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid "
    "  AND d.objsubid = 0 AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0 "
    "  AND d.deptype IN ('a', 'i') "
    "LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid "
    "LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "  AND c.oid NOT IN (SELECT e.objid FROM pg_catalog.pg_depend e "
    "    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.deptype = 'e') "
    "ORDER BY 1, 2";

// Columns whose default calls nextval() on a sequence.
const char* const kDiscoverSequenceDefaults =
    "SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname "
    "FROM pg_catalog.pg_attrdef ad "
    "JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid "
    "  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' "
    "JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace "
    "JOIN pg_catalog.pg_class t ON t.oid = ad.adrelid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
    "WHERE pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) LIKE '%nextval(%'";

const char* const kDiscoverLargeObjects =
    "SELECT m.oid::pg_catalog.int8, pg_catalog.pg_get_userbyid(m.lomowner) "
    "FROM pg_catalog.pg_largeobject_metadata m ORDER BY 1";

constexpr int kSequencesPerQuery = 500;
constexpr int kLargeObjectPiece = 1 << 20;

// pg_dump's settings plus the three it leaves to the environment.
const char* const kSessionSetup =
    "SELECT pg_catalog.set_config('search_path', '', false);"
    "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3;"
    "SET row_security = off; SET TimeZone = 'UTC'; SET bytea_output = 'hex';"
    "SET client_encoding = 'UTF8'; SET statement_timeout = 0; SET lock_timeout = 0;"
    "SET idle_in_transaction_session_timeout = 0;";

// Catalog facts come in four set-based queries whatever the number of
// tables (a query per table, or a correlated subquery per table, costs
// seconds at 10,000 tables).
//
// Tables whose data pg_dump would dump: ordinary tables and leaf partitions
// (partitioned parents hold no rows), not in system schemas, not members of
// an extension. Their size for scheduling (largest first) is the planner's
// page count of the table and its TOAST table, as pg_dump uses: asking the
// file system for every table's size (pg_relation_size) costs a stat() each.
// The heap's pages decide whether a table is read in TID ranges: a table
// never vacuumed nor analyzed (reltuples -1 from PostgreSQL 14, as right
// after a restore) has no page count yet, so its file is asked.
const char* const kDiscoverTables =
    "SELECT n.nspname, c.relname, c.oid::bigint, "
    "  (c.relpages::bigint + COALESCE(t.relpages, 0)) * 8192 AS bytes, "
    "  CASE WHEN c.reltuples < 0 THEN pg_catalog.pg_relation_size(c.oid) / 8192 ELSE c.relpages::bigint END, "
    "  c.relpersistence = 'u' "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid "
    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
    "  AND c.oid NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass "
    "                    AND d.deptype = 'e') "
    "ORDER BY bytes DESC, n.nspname, c.relname";

// Every column of those tables (not dropped), in attnum order per table:
// whether COPY lists it (generated columns it does not), whether it is NOT
// NULL, whether it holds a timestamp or timestamptz (or a domain over one),
// and what its binary form is: the type under any domains, its type class
// (an enum sends its label), and for an array the element type its values
// carry with that type's own base type and class.
const char* const kDiscoverColumns =
    "WITH RECURSIVE b(oid, base) AS ("
    "  SELECT t.oid, t.oid FROM pg_catalog.pg_type t WHERE t.typtype <> 'd' "
    "  UNION ALL SELECT t.oid, b.base FROM pg_catalog.pg_type t JOIN b ON t.typbasetype = b.oid "
    "  WHERE t.typtype = 'd') "
    "SELECT a.attrelid::bigint, a.attnum, a.attname::text, a.attgenerated <> '', a.attnotnull, "
    "  bt.oid IN ('pg_catalog.timestamp'::pg_catalog.regtype, 'pg_catalog.timestamptz'::pg_catalog.regtype), "
    "  bt.oid, bt.typtype, COALESCE(et.oid, 0), COALESCE(ebt.oid, 0), COALESCE(ebt.typtype, '') "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN b ON b.oid = a.atttypid JOIN pg_catalog.pg_type bt ON bt.oid = b.base "
    "LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND et.typarray = bt.oid "
    "LEFT JOIN b eb ON eb.oid = et.oid LEFT JOIN pg_catalog.pg_type ebt ON ebt.oid = eb.base "
    "WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attrelid, a.attnum";

// Partitioned tables and their direct partitions (leaves or partitioned
// themselves): a leaf's ancestors are walked up from it.
const char* const kDiscoverPartitionParents =
    "SELECT i.inhrelid::bigint, i.inhparent::bigint, pn.nspname, pc.relname "
    "FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent "
    "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace WHERE pc.relkind = 'p'";

// Unique indexes on plain columns without a predicate, the primary key first,
// then by index oid: a table's key is the first whose columns are NOT NULL.
const char* const kDiscoverKeys =
    "SELECT i.indrelid::bigint, i.indkey::text, i.indisprimary "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
    "WHERE c.relkind = 'r' AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
    "ORDER BY i.indrelid, i.indisprimary DESC, i.indexrelid";

// Every foreign key between tables, with its columns in key order.
const char* const kDiscoverForeignKeys =
    "SELECT co.conname, cn.nspname, cc.relname, pn.nspname, pc.relname, "
    "  ARRAY(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(n, o) "
    "        JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n ORDER BY k.o), "
    "  ARRAY(SELECT a.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(n, o) "
    "        JOIN pg_catalog.pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.n ORDER BY k.o) "
    "FROM pg_catalog.pg_constraint co "
    "JOIN pg_catalog.pg_class cc ON cc.oid = co.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace "
    "JOIN pg_catalog.pg_class pc ON pc.oid = co.confrelid JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
    "WHERE co.contype = 'f' AND co.conparentid = 0 "
    "ORDER BY cn.nspname, cc.relname, co.conname";

std::string QuoteIdent(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Parses a text[] value as PostgreSQL prints it: {a,"b c","d\"e"}.
std::vector<std::string> ParseTextArray(const char* v) {
  std::vector<std::string> out;
  std::string_view s(v);
  if (s.size() < 2) return out;
  s = s.substr(1, s.size() - 2);
  size_t i = 0;
  while (i < s.size()) {
    std::string item;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < s.size() && s[i] != ',') item += s[i++];
    }
    out.push_back(std::move(item));
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

// SQLSTATE 53200 (out_of_memory in shared memory): for a lock, the server's
// lock table is full.
bool OutOfSharedMemory(const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return state != nullptr && std::string_view(state) == "53200";
}

// What one COPY reads: a whole table, or one TID range of a large one.
struct Piece {
  uint32_t table = 0;
  bool ranged = false;
  uint32_t first_block = 0, end_block = 0;  // ranged: [first, end); end 0 = to the table's end
};

struct Conn {
  PGconn* pg = nullptr;
  int piece = -1;        // piece being copied, -1 when idle
  int table = -1;        // its table
  bool copying = false;  // COPY OUT established
  // Pieces whose COPY was sent after `piece`'s in the same query string: small
  // tables go in batches, so that the server goes from one COPY to the next
  // without waiting for a round trip.
  std::deque<int> queued;
  // A binary COPY's framer (it keeps whole tuples, converted to text later:
  // RowChunk::binary_columns), and the whole tuples of the last message.
  std::unique_ptr<BinaryCopyDecoder> decoder;
  std::string tuples;
};

class LiveReader final : public TableStreamReader {
 public:
  ~LiveReader() override {
    JoinSideRead().message();
    paused_.reset();  // replay resumes (when the reader paused it)
    for (Conn& c : conns_) PQfinish(c.pg);
    PQfinish(repl_);
  }

  Status Open(const std::string& conninfo, const LiveOptions& opt) {
    PGconn* leader = nullptr;
    VOUCH_RETURN_IF_ERROR(Connect(conninfo, &leader));
    conns_.emplace_back().pg = leader;
    std::string slot_snapshot;  // --at-lsn on a primary: the slot's
    if (opt.at_lsn) {
      auto pinned = PinWalPosition(conninfo, leader);
      if (!pinned.ok()) return pinned.status();
      slot_snapshot = std::move(pinned).value();
    }
    Result<std::string> snapshot = BeginSnapshot(leader, /*export_snapshot=*/true, slot_snapshot);
    // The slot's snapshot is the leader's now: the slot (temporary) goes
    // with its connection.
    PQfinish(repl_);
    repl_ = nullptr;
    if (!snapshot.ok()) return snapshot.status();
    filter_ = opt.filter;
    shard_index_ = opt.shard_index;
    shard_count_ = opt.shard_count;
    if (shard_count_ > 1) {
      info_.properties["shard"] = std::to_string(shard_index_) + "/" + std::to_string(shard_count_);
      info_.properties["shard_method"] = "server: hashtext(ROW(key)::text) % N";
    }
    // A schema-only read locks the tables as pg_dump does, but needs none
    // of the facts their rows are read with (columns, keys, foreign keys).
    const bool schema_only = opt.schema && opt.schema_only;
    copy_format_ = opt.copy_format;
    VOUCH_RETURN_IF_ERROR(Discover(leader, opt.only_tables, /*row_facts=*/!schema_only));
    if (!schema_only) VOUCH_RETURN_IF_ERROR(ChooseCopyFormats(leader));
    VOUCH_RETURN_IF_ERROR(LockTables(leader));
    if (!schema_only) VOUCH_RETURN_IF_ERROR(DiscoverForeignKeys(leader));
    // Sequences and large objects belong to the whole database: a read of
    // some tables or of one shard does not report them.
    const bool whole = opt.only_tables.empty() && (opt.filter == nullptr || opt.filter->empty()) && shard_count_ <= 1;
    bool lo_content = false;
    if (whole && !schema_only) {
      if (!opt.rows_only) {
        VOUCH_RETURN_IF_ERROR(DiscoverSequences(leader));
        sequences_read_ = true;
        if (!repl_slot_lsn_.empty()) {
          // A sequence's state is read outside any snapshot (sequences are
          // not transactional): on a primary it is already past the slot's
          // LSN, so it is not recorded as the state there.
          for (SequenceInfo& seq : sequences_) seq.has_state = false;
          info_.properties["sequence_state"] = "not recorded: read after at_lsn, outside the snapshot";
        }
      }
      // Listed here; their content (not with rows_only) is read beside the rows.
      VOUCH_RETURN_IF_ERROR(ListLargeObjects(leader));
      lo_content = !opt.rows_only && !large_objects_.empty();
      whole_ = true;
    }
    if (schema_only) {
      // With --jobs 2 or more, half of the schema objects are read on a
      // second connection in the same snapshot meanwhile.
      PGconn* second = nullptr;
      if (opt.jobs > 1) {
        VOUCH_RETURN_IF_ERROR(Connect(conninfo, &second));
        auto snap = BeginSnapshot(second, false, *snapshot);
        if (!snap.ok()) {
          PQfinish(second);
          return snap.status();
        }
      }
      Status st = ReadLiveSchema(leader, second, Where(), &schema_);
      PQfinish(second);
      VOUCH_RETURN_IF_ERROR(st);
      has_schema_ = true;
      schema_read_ = true;
      tables_.clear();
      table_bytes_.clear();
      heap_pages_.clear();
      plans_.clear();
    } else if (opt.schema || lo_content) {
      // The large objects' content and the schema objects are read on a
      // connection of their own in the same snapshot, while the rows are
      // read: their queries cost no wall-clock time of the digest where the
      // rows leave the server time. Joined when the last table ends.
      VOUCH_RETURN_IF_ERROR(Connect(conninfo, &side_pg_));
      auto st = BeginSnapshot(side_pg_, false, *snapshot);
      if (!st.ok()) return st.status();
      side_reads_schema_ = opt.schema;
      side_thread_ = std::thread([this, where = Where(), lo_content] {
        if (lo_content) side_status_ = ReadLargeObjectContent(side_pg_, where);
        if (side_status_.ok() && side_reads_schema_) side_status_ = ReadLiveSchema(side_pg_, nullptr, where, &schema_);
        if (side_status_.ok() && side_reads_schema_) {
          std::lock_guard lock(schema_mu_);
          schema_read_ = true;
          if (schema_sink_) HandOver();
        }
      });
    }
    PlanPieces(opt);
    int jobs = std::max(1, std::min<int>(opt.jobs, static_cast<int>(pieces_.size())));
    for (int i = 1; i < jobs; ++i) {
      PGconn* w = nullptr;
      VOUCH_RETURN_IF_ERROR(Connect(conninfo, &w));
      conns_.emplace_back().pg = w;
      auto st = BeginSnapshot(w, false, *snapshot);
      if (!st.ok()) return st.status();
    }
    return Status::Ok();
  }

  Result<bool> NextChunk(RowChunk& chunk, size_t target) override {
    if (!failed_.ok()) return failed_;
    auto r = Fill(chunk, std::max<size_t>(target, 64));
    if (!r.ok()) failed_ = r.status();
    if (r.ok() && *r) sent_ += chunk.size;
    return r;
  }
  ReadExtent Extent() const override {
    if (!total_bytes_) {
      uint64_t total = 0;
      for (uint64_t b : table_bytes_) total += b;
      total_bytes_ = total;  // once, even when 0 (tables never analyzed)
    }
    return {sent_, *total_bytes_, true};
  }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  std::deque<TableInfo> ReleaseTables() override { return std::move(tables_); }
  const SourceInfo& source_info() const override { return info_; }
  const std::vector<ForeignKey>* foreign_keys() const override { return &foreign_keys_; }
  bool yields_one_shard() const override { return shard_count_ > 1; }
  const std::vector<SequenceInfo>* sequences() const override { return sequences_read_ ? &sequences_ : nullptr; }
  const std::vector<LargeObjectInfo>* large_objects() const override { return whole_ ? &large_objects_ : nullptr; }
  const SchemaCatalog* schema() const override { return has_schema_ ? &schema_ : nullptr; }
  bool ReleaseSchema(SchemaCatalog* out) override {
    if (!has_schema_) return false;
    *out = std::move(schema_);
    return true;
  }
  void HandSchemaTo(SchemaSink sink) override {
    std::lock_guard lock(schema_mu_);
    if (schema_handed_) return;
    schema_sink_ = std::move(sink);
    if (!schema_read_) return;  // the read beside the rows hands them over when done
    HandOver();
    has_schema_ = false;
  }

 private:
  static int64_t Int(PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }

  // Definitions from pg_sequence, states from each sequence relation itself
  // (SELECT last_value, is_called: not transactional, read as they are now),
  // a few hundred sequences per query.
  Status DiscoverSequences(PGconn* pg) {
    auto defs = Query(pg, kDiscoverSequences, "list sequences");
    if (!defs.ok()) return defs.status();
    std::map<RelationName, size_t> index;
    for (int i = 0; i < PQntuples(*defs); ++i) {
      SequenceInfo s;
      s.schema = PQgetvalue(*defs, i, 0);
      s.name = PQgetvalue(*defs, i, 1);
      s.has_definition = true;
      s.type = PQgetvalue(*defs, i, 2);
      s.start = Int(*defs, i, 3);
      s.increment = Int(*defs, i, 4);
      s.min_value = Int(*defs, i, 5);
      s.max_value = Int(*defs, i, 6);
      s.cache = Int(*defs, i, 7);
      s.cycle = PQgetvalue(*defs, i, 8)[0] == 't';
      s.owned_by = {PQgetvalue(*defs, i, 9), PQgetvalue(*defs, i, 10), PQgetvalue(*defs, i, 11)};
      if (s.owned_by.column.empty()) s.owned_by = {};
      index[{s.schema, s.name}] = sequences_.size();
      sequences_.push_back(std::move(s));
    }
    PQclear(*defs);
    auto feeds = Query(pg, kDiscoverSequenceDefaults, "list column defaults");
    if (!feeds.ok()) return feeds.status();
    for (int i = 0; i < PQntuples(*feeds); ++i) {
      auto it = index.find({PQgetvalue(*feeds, i, 0), PQgetvalue(*feeds, i, 1)});
      if (it == index.end()) continue;
      sequences_[it->second].feeds.push_back({PQgetvalue(*feeds, i, 2), PQgetvalue(*feeds, i, 3), PQgetvalue(*feeds, i, 4)});
    }
    PQclear(*feeds);
    for (size_t at = 0; at < sequences_.size(); at += kSequencesPerQuery) {
      const size_t end = std::min(sequences_.size(), at + kSequencesPerQuery);
      std::string sql;
      for (size_t k = at; k < end; ++k) {
        if (!sql.empty()) sql += " UNION ALL ";
        char* schema = PQescapeIdentifier(pg, sequences_[k].schema.data(), sequences_[k].schema.size());
        char* name = PQescapeIdentifier(pg, sequences_[k].name.data(), sequences_[k].name.size());
        if (schema == nullptr || name == nullptr) {
          PQfreemem(schema);
          PQfreemem(name);
          return ConnectionError(Where() + ": cannot quote sequence " + sequences_[k].QualifiedName());
        }
        sql += "SELECT " + std::to_string(k) + ", last_value, is_called FROM " + schema + "." + name;
        PQfreemem(schema);
        PQfreemem(name);
      }
      auto states = Query(pg, sql.c_str(), "read the sequences' states (SELECT on each sequence is needed)");
      if (!states.ok()) return states.status();
      for (int i = 0; i < PQntuples(*states); ++i) {
        SequenceInfo& s = sequences_[static_cast<size_t>(Int(*states, i, 0))];
        s.has_state = true;
        s.last_value = Int(*states, i, 1);
        s.is_called = PQgetvalue(*states, i, 2)[0] == 't';
      }
      PQclear(*states);
    }
    SortSequences(sequences_);
    return Status::Ok();
  }

  // Every large object and its owner (has_content false until read).
  Status ListLargeObjects(PGconn* pg) {
    auto list = Query(pg, kDiscoverLargeObjects, "list large objects");
    if (!list.ok()) return list.status();
    for (int i = 0; i < PQntuples(*list); ++i) {
      large_objects_.push_back(LargeObjectInfo{static_cast<uint32_t>(Int(*list, i, 0)), PQgetvalue(*list, i, 1), false, 0, {}});
    }
    PQclear(*list);
    return Status::Ok();
  }

  // Each listed large object's content, read with lo_get in the snapshot
  // (1 MB at a time: an object can be up to 4 TB) and hashed.
  Status ReadLargeObjectContent(PGconn* pg, const std::string& where) {
    for (LargeObjectInfo& lo : large_objects_) {
      LargeObjectHasher h(lo.oid);
      const std::string oid = std::to_string(lo.oid), piece = std::to_string(kLargeObjectPiece);
      int64_t offset = 0;
      while (true) {
        const std::string at = std::to_string(offset);
        const char* params[] = {oid.c_str(), at.c_str(), piece.c_str()};
        PGresult* r = PQexecParams(pg,
                                   "SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, "
                                   "$3::pg_catalog.int4)",
                                   3, nullptr, params, nullptr, nullptr, /*resultFormat=*/1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
          const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
          const bool denied = state != nullptr && std::strcmp(state, "42501") == 0;
          std::string err = Trim(PQerrorMessage(pg));
          PQclear(r);
          if (denied) {
            return ConnectionError(where + ": cannot read large object " + oid + ": " + err +
                                   ": reading large objects needs the SELECT privilege on each (GRANT SELECT ON "
                                   "LARGE OBJECT " + oid + " TO the role vouch connects as), ownership of them, or "
                                   "a superuser");
          }
          return ConnectionError(where + ": cannot read large object " + oid + ": " + err);
        }
        const int len = PQgetlength(r, 0, 0);
        h.Update(PQgetvalue(r, 0, 0), static_cast<size_t>(len));
        PQclear(r);
        offset += len;
        if (len < kLargeObjectPiece) break;
      }
      lo.has_content = true;
      lo.bytes = static_cast<uint64_t>(offset);
      lo.hash = h.Finish();
    }
    return Status::Ok();
  }

  std::string Where() const { return info_.location; }

  Status DiscoverForeignKeys(PGconn* pg) {
    PGresult* r = PQexec(pg, kDiscoverForeignKeys);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = PQerrorMessage(pg);
      PQclear(r);
      return ConnectionError(Where() + ": cannot list foreign keys: " + Trim(err));
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      ForeignKey fk;
      fk.name = PQgetvalue(r, i, 0);
      fk.schema = PQgetvalue(r, i, 1);
      fk.table = PQgetvalue(r, i, 2);
      fk.ref_schema = PQgetvalue(r, i, 3);
      fk.ref_table = PQgetvalue(r, i, 4);
      fk.columns = ParseTextArray(PQgetvalue(r, i, 5));
      fk.ref_columns = ParseTextArray(PQgetvalue(r, i, 6));
      foreign_keys_.push_back(std::move(fk));
    }
    PQclear(r);
    return Status::Ok();
  }

  // Gives the schema objects to the sink (schema_mu_ held).
  void HandOver() {
    schema_handed_ = true;
    schema_sink_(std::move(schema_));
    schema_ = SchemaCatalog();
  }

  // Waits for the read beside the rows (large objects' content, schema
  // objects), if one runs, and closes its connection.
  Status JoinSideRead() {
    if (!side_thread_.joinable()) return Status::Ok();
    side_thread_.join();
    PQfinish(side_pg_);
    side_pg_ = nullptr;
    has_schema_ = side_reads_schema_ && side_status_.ok() && !schema_handed_;
    return side_status_;
  }

  Status Connect(const std::string& conninfo, PGconn** out) {
    const char* keys[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {conninfo.c_str(), "vouch", nullptr};
    PGconn* pg = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (PQstatus(pg) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(pg);
      PQfinish(pg);
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      return ConnectionError("cannot connect to the database: " + msg);
    }
    if (info_.location.empty()) {
      info_.location = std::string("postgresql://") + PQuser(pg) + "@" + PQhost(pg) + ":" + PQport(pg) + "/" + PQdb(pg);
    }
    *out = pg;
    return Exec(pg, kSessionSetup);
  }

  Status Exec(PGconn* pg, const std::string& sql) {
    PGresult* r = PQexec(pg, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    std::string err = PQerrorMessage(pg);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ConnectionError(Where() + ": " + Trim(err));
    return Status::Ok();
  }

  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  // --at-lsn: fixes the WAL position the snapshot will be read at, and
  // records it as the source's "at_lsn". On a primary, a temporary logical
  // replication slot is made on a replication connection (repl_, kept open
  // until the leader has imported its snapshot): its exported snapshot sees
  // exactly the transactions that committed before its consistent point, and
  // that snapshot's name is returned. On a hot standby, replay is paused
  // (and resumed when the reader goes, unless it was paused already), and
  // the snapshot sees what was replayed up to pg_last_wal_replay_lsn();
  // "" is returned (the leader takes its own snapshot).
  Result<std::string> PinWalPosition(const std::string& conninfo, PGconn* leader) {
    auto facts = Query(leader, "SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('wal_level')",
                       "read the server's recovery state");
    if (!facts.ok()) return facts.status();
    const bool standby = std::string_view(PQgetvalue(*facts, 0, 0)) == "t";
    const std::string wal_level = PQgetvalue(*facts, 0, 1);
    PQclear(*facts);
    if (standby) {
      auto paused = PausedStandby::Pause(conninfo);
      if (!paused.ok()) return paused.status();
      paused_ = std::move(paused).value();
      info_.properties["at_lsn"] = paused_->lsn();
      info_.properties["at_lsn_method"] = "standby replay paused";
      return std::string();
    }
    if (wal_level != "logical") {
      return InvalidArgument(Where() + ": --at-lsn on a primary needs wal_level = logical (it is " + wal_level +
                             "): the LSN is a temporary logical replication slot's consistent point; or read a hot "
                             "standby");
    }
    const char* keys[] = {"dbname", "replication", "fallback_application_name", nullptr};
    const char* values[] = {conninfo.c_str(), "database", "vouch", nullptr};
    repl_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (PQstatus(repl_) != CONNECTION_OK) {
      return ConnectionError(Where() +
                             ": --at-lsn cannot open a replication connection (the role needs REPLICATION, "
                             "pg_hba.conf a line for it): " +
                             Trim(PQerrorMessage(repl_)));
    }
    // The old syntax: PostgreSQL 10 to 18 all take it.
    const std::string slot = "vouch_at_lsn_" + std::to_string(getpid()) + "_" + std::to_string(PQbackendPID(repl_));
    PGresult* r =
        PQexec(repl_, ("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT").c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) < 3) {
      std::string err = PQerrorMessage(repl_);
      PQclear(r);
      return ConnectionError(Where() + ": --at-lsn cannot make a temporary logical replication slot: " + Trim(err));
    }
    info_.properties["at_lsn"] = PQgetvalue(r, 0, 1);
    repl_slot_lsn_ = PQgetvalue(r, 0, 1);
    info_.properties["at_lsn_method"] = "logical slot consistent point (this database only)";
    std::string snapshot = PQgetvalue(r, 0, 2);
    PQclear(r);
    return snapshot;
  }

  // Opens the read-only snapshot transaction; the leader exports its
  // snapshot (importing `snapshot` first when one is given: --at-lsn's), the
  // workers import it.
  Result<std::string> BeginSnapshot(PGconn* pg, bool export_snapshot, const std::string& snapshot) {
    VOUCH_RETURN_IF_ERROR(Exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    if (!snapshot.empty()) VOUCH_RETURN_IF_ERROR(Exec(pg, "SET TRANSACTION SNAPSHOT '" + snapshot + "'"));
    if (!export_snapshot) return std::string();
    PGresult* r = PQexec(pg,
                         "SELECT pg_catalog.pg_export_snapshot(), pg_catalog.current_setting('server_version'), "
                         "pg_catalog.pg_is_in_recovery(), "
                         "CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn() "
                         "ELSE pg_catalog.pg_current_wal_lsn() END::text, "
                         "to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                         "pg_catalog.current_database(), pg_catalog.current_setting('max_locks_per_transaction'), "
                         "pg_catalog.current_setting('max_connections'), "
                         "pg_catalog.current_setting('max_prepared_transactions'), "
                         "pg_catalog.current_setting('server_version_num')::int, "
                         "(SELECT system_identifier FROM pg_catalog.pg_control_system())::text");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = PQerrorMessage(pg);
      PQclear(r);
      return ConnectionError(Where() + ": cannot export a snapshot: " + Trim(err));
    }
    std::string snap = PQgetvalue(r, 0, 0);
    info_.properties["server_version"] = PQgetvalue(r, 0, 1);
    in_recovery_ = std::string_view(PQgetvalue(r, 0, 2)) == "t";
    info_.properties["in_recovery"] = in_recovery_ ? "true" : "false";
    info_.properties[info_.properties["in_recovery"] == "true" ? "replay_lsn" : "wal_lsn"] = PQgetvalue(r, 0, 3);
    info_.properties["snapshot_time"] = PQgetvalue(r, 0, 4);
    info_.properties["database"] = PQgetvalue(r, 0, 5);
    lock_settings_ = {PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 8)};
    server_version_num_ = std::atoi(PQgetvalue(r, 0, 9));
    // The cluster's identity (pg_control): a standby's is its primary's.
    info_.properties["system_identifier"] = PQgetvalue(r, 0, 10);
    PQclear(r);
    return snap;
  }

  // A query's rows, or the error naming `what` failed.
  Result<PGresult*> Query(PGconn* pg, const char* sql, const std::string& what) {
    PGresult* r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = PQerrorMessage(pg);
      PQclear(r);
      return ConnectionError(Where() + ": cannot " + what + ": " + Trim(err));
    }
    return r;
  }

  // The tables (and, with row_facts, their columns and keys: without, the
  // same queries return no row).
  Status Discover(PGconn* pg, const std::vector<std::string>& only, bool row_facts) {
    auto tables = Query(pg, kDiscoverTables, "list tables");
    if (!tables.ok()) return tables.status();
    const std::string none = row_facts ? "" : " LIMIT 0";
    auto columns = Query(pg, (kDiscoverColumns + none).c_str(), "list columns");
    if (!columns.ok()) {
      PQclear(*tables);
      return columns.status();
    }
    auto keys = Query(pg, (kDiscoverKeys + none).c_str(), "list keys");
    if (!keys.ok()) {
      PQclear(*tables);
      PQclear(*columns);
      return keys.status();
    }
    // Each table's columns are a run of rows of the result (ordered by table
    // oid, then attnum): they are read from it where needed, not copied into
    // a map per table (100,000 tables would cost tens of MB).
    const PGresult* cr = *columns;
    std::unordered_map<int64_t, std::pair<int, int>> col_rows;  // table oid → [first, last) rows
    for (int i = 0; i < PQntuples(cr); ++i) {
      auto [it, fresh] = col_rows.try_emplace(std::atoll(PQgetvalue(cr, i, 0)), i, i + 1);
      if (!fresh) it->second.second = i + 1;
    }
    auto column_rows = [&](int64_t oid) {
      auto it = col_rows.find(oid);
      return it == col_rows.end() ? std::pair(0, 0) : it->second;
    };
    auto copied_col = [&](int i) { return PQgetvalue(cr, i, 3)[0] != 't'; };
    // The key: the primary key, else the first unique index whose columns are
    // all NOT NULL (the query lists the primary key first).
    std::unordered_map<int64_t, std::vector<std::string>> key_of;
    for (int i = 0; i < PQntuples(*keys); ++i) {
      const int64_t oid = std::atoll(PQgetvalue(*keys, i, 0));
      if (key_of.count(oid)) continue;
      const bool primary = PQgetvalue(*keys, i, 2)[0] == 't';
      const auto [first, last] = column_rows(oid);
      std::vector<std::string> names;
      bool usable = true;
      // int2vector prints as attnums separated by spaces: "1 3".
      const char* p = PQgetvalue(*keys, i, 1);
      while (*p != '\0') {
        char* end = nullptr;
        const long attnum = std::strtol(p, &end, 10);
        if (end == p) break;
        p = end;
        int row = first;
        while (row < last && std::atol(PQgetvalue(cr, row, 1)) != attnum) ++row;
        if (row == last || !(primary || PQgetvalue(cr, row, 4)[0] == 't')) {
          usable = false;
          break;
        }
        names.emplace_back(PQgetvalue(cr, row, 2));
      }
      if (usable && !names.empty()) key_of.emplace(oid, std::move(names));
    }
    PQclear(*keys);
    auto parents = Query(pg, kDiscoverPartitionParents, "list partitions");
    if (!parents.ok()) {
      PQclear(*tables);
      PQclear(*columns);
      return parents.status();
    }
    struct Parent {
      int64_t oid;
      std::string schema, name;
    };
    std::unordered_map<int64_t, Parent> parent_of;
    for (int i = 0; i < PQntuples(*parents); ++i) {
      parent_of.emplace(std::atoll(PQgetvalue(*parents, i, 0)),
                        Parent{std::atoll(PQgetvalue(*parents, i, 1)), PQgetvalue(*parents, i, 2),
                               PQgetvalue(*parents, i, 3)});
    }
    PQclear(*parents);
    for (int i = 0; i < PQntuples(*tables); ++i) {
      TableInfo t;
      t.schema = PQgetvalue(*tables, i, 0);
      t.name = PQgetvalue(*tables, i, 1);
      const int64_t oid = std::atoll(PQgetvalue(*tables, i, 2));
      // A leaf partition's partitioned ancestors, its parent first, its root
      // last (a cycle cannot happen in a catalog; the bound is for safety).
      for (auto up = parent_of.find(oid); up != parent_of.end() && t.partition_ancestors.size() < 1000;
           up = parent_of.find(up->second.oid)) {
        t.partition_ancestors.push_back({up->second.schema, up->second.name});
      }
      if (!only.empty() && std::find(only.begin(), only.end(), t.QualifiedName()) == only.end()) continue;
      if (filter_ && !filter_->Selects(t)) continue;
      // COPY will list the columns in canonical (byte) order, so that is the
      // order the rows arrive in.
      std::vector<int> copied_rows;
      const auto [first, last] = column_rows(oid);
      copied_rows.reserve(static_cast<size_t>(last - first));
      for (int row = first; row < last; ++row) {
        if (!copied_col(row)) continue;
        copied_rows.push_back(row);
        if (PQgetvalue(cr, row, 5)[0] == 't') t.time_columns.emplace_back(PQgetvalue(cr, row, 2));
      }
      std::sort(copied_rows.begin(), copied_rows.end(),
                [&](int a, int b) { return std::strcmp(PQgetvalue(cr, a, 2), PQgetvalue(cr, b, 2)) < 0; });
      std::vector<std::string> copied;
      copied.reserve(copied_rows.size());
      BinaryPlan plan;
      for (int row : copied_rows) {
        copied.emplace_back(PQgetvalue(cr, row, 2));
        if (plan.unsupported_type != 0) continue;
        uint32_t unsupported = 0;
        if (auto col = BinaryColumnOf(cr, row, &unsupported)) {
          plan.columns.push_back(*col);
        } else {
          plan.unsupported_type = unsupported;
          plan.unsupported_column = copied.back();
          plan.columns.clear();
        }
      }
      t.SetColumns(std::move(copied));
      plan.empty_on_standby = in_recovery_ && PQgetvalue(*tables, i, 5)[0] == 't';
      plans_.push_back(std::move(plan));
      if (auto k = key_of.find(oid); k != key_of.end()) t.key_columns = k->second;
      tables_.push_back(std::move(t));
      table_bytes_.push_back(static_cast<uint64_t>(std::atoll(PQgetvalue(*tables, i, 3))));
      heap_pages_.push_back(static_cast<uint64_t>(std::atoll(PQgetvalue(*tables, i, 4))));
    }
    PQclear(*tables);
    PQclear(*columns);
    return Status::Ok();
  }

  // The binary form of column `row` of kDiscoverColumns' result, or none
  // (its type, or its element type, in *unsupported).
  std::optional<BinaryColumn> BinaryColumnOf(const PGresult* cr, int row, uint32_t* unsupported) const {
    auto oid = [&](int col) { return static_cast<uint32_t>(std::strtoul(PQgetvalue(cr, row, col), nullptr, 10)); };
    auto kind_of = [&](uint32_t type, char typtype) -> std::optional<BinaryKind> {
      if (typtype == 'e') return BinaryKind::kText;  // an enum sends its label
      return BinaryKindOfType(type, server_version_num_);
    };
    const uint32_t element = oid(8);
    if (element == 0) {
      auto k = kind_of(oid(6), PQgetvalue(cr, row, 7)[0]);
      if (!k) {
        *unsupported = oid(6);
        return std::nullopt;
      }
      return BinaryColumn{*k, BinaryKind::kText, 0};
    }
    auto k = kind_of(oid(9), PQgetvalue(cr, row, 10)[0]);
    if (!k || *k == BinaryKind::kArray) {
      *unsupported = oid(6);
      return std::nullopt;
    }
    return BinaryColumn{BinaryKind::kArray, *k, element};
  }

  // Each table's COPY format (--copy-format): binary where every column has
  // a converter (auto), else text; with `binary`, a table that cannot be
  // read so is an error naming its column and type.
  Status ChooseCopyFormats(PGconn* pg) {
    std::vector<uint32_t> unsupported;
    for (const BinaryPlan& p : plans_) {
      if (p.unsupported_type != 0) unsupported.push_back(p.unsupported_type);
    }
    std::sort(unsupported.begin(), unsupported.end());
    unsupported.erase(std::unique(unsupported.begin(), unsupported.end()), unsupported.end());
    std::unordered_map<uint32_t, std::string> type_names;
    if (!unsupported.empty() && copy_format_ != CopyFormat::kText) {
      std::string list;
      for (uint32_t o : unsupported) list += (list.empty() ? "" : ",") + std::to_string(o);
      auto r = Query(
          pg,
          ("SELECT oid, pg_catalog.format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid IN (" + list + ")").c_str(),
          "name column types");
      if (!r.ok()) return r.status();
      for (int i = 0; i < PQntuples(*r); ++i) {
        type_names[static_cast<uint32_t>(std::strtoul(PQgetvalue(*r, i, 0), nullptr, 10))] = PQgetvalue(*r, i, 1);
      }
      PQclear(*r);
    }
    size_t binary = 0, text = 0;
    for (size_t i = 0; i < tables_.size(); ++i) {
      BinaryPlan& p = plans_[i];
      TableInfo& t = tables_[i];
      if (p.empty_on_standby) {
        t.read_as = "not read: unlogged, so empty on a standby (its rows are never replicated)";
        p.binary = false;
        p.columns.clear();
        continue;
      }
      p.binary = copy_format_ != CopyFormat::kText && p.unsupported_type == 0;
      if (!p.binary && copy_format_ == CopyFormat::kBinary) {
        return InvalidArgument(Where() + ": table " + t.QualifiedName() + " cannot be read with binary COPY: column " +
                               p.unsupported_column + " has type " + type_names[p.unsupported_type] +
                               ", which vouch has no converter for (--copy-format auto reads it as text)");
      }
      if (p.binary) {
        t.read_as = "binary";
        ++binary;
      } else {
        t.read_as = copy_format_ == CopyFormat::kText
                        ? "text"
                        : "text (column " + p.unsupported_column + ": " + type_names[p.unsupported_type] + ")";
        ++text;
        p.columns.clear();
      }
    }
    info_.properties["copy_format"] = "binary: " + std::to_string(binary) + " tables, text: " + std::to_string(text) +
                                      " tables (--copy-format " +
                                      (copy_format_ == CopyFormat::kAuto   ? "auto"
                                       : copy_format_ == CopyFormat::kText ? "text"
                                                                           : "binary") +
                                      ")";
    return Status::Ok();
  }

  // The COPYs to run: a table each, but a table whose heap is larger than
  // split_bytes (PostgreSQL 14+, read by more than one connection, not a
  // shard) in TID ranges of about 64 MB, at most four per connection, the
  // last open-ended so that pages added since the planner counted them are
  // read too.
  void PlanPieces(const LiveOptions& opt) {
    constexpr uint64_t kRangeBytes = uint64_t{64} << 20;
    const bool can_split = opt.split_bytes > 0 && opt.jobs > 1 && server_version_num_ >= 140000 && shard_count_ <= 1;
    remaining_pieces_.assign(tables_.size(), 0);
    for (size_t i = 0; i < tables_.size(); ++i) {
      const uint64_t pages = heap_pages_[i];
      const uint64_t heap = pages * 8192;
      uint64_t n = 1;
      if (can_split && heap > opt.split_bytes && !tables_[i].columns.empty() && !plans_[i].empty_on_standby) {
        n = std::clamp<uint64_t>(heap / kRangeBytes, 2, 4 * static_cast<uint64_t>(opt.jobs));
      }
      if (n == 1) {
        pieces_.push_back(Piece{static_cast<uint32_t>(i), false, 0, 0});
      } else {
        for (uint64_t k = 0; k < n; ++k) {
          pieces_.push_back(Piece{static_cast<uint32_t>(i), true, static_cast<uint32_t>(pages * k / n),
                                  k + 1 == n ? 0 : static_cast<uint32_t>(pages * (k + 1) / n)});
        }
        tables_[i].read_as += ", " + std::to_string(n) + " TID ranges";
      }
      remaining_pieces_[i] = static_cast<uint32_t>(n);
    }
  }

  // Locks every table to be read (ACCESS SHARE, as pg_dump does) before any
  // row is read, so that none is dropped or altered under the snapshot, and
  // so that a server whose lock table cannot hold them all fails here, with
  // the setting named, rather than part-way through the data.
  Status LockTables(PGconn* pg) {
    constexpr size_t kPerStatement = 1000;
    for (size_t first = 0; first < tables_.size(); first += kPerStatement) {
      std::string sql = "LOCK TABLE ";
      for (size_t i = first; i < std::min(tables_.size(), first + kPerStatement); ++i) {
        if (i > first) sql += ", ";
        sql += "ONLY " + QuoteIdent(tables_[i].schema) + "." + QuoteIdent(tables_[i].name);
      }
      sql += " IN ACCESS SHARE MODE";
      PGresult* r = PQexec(pg, sql.c_str());
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      const bool out_of_locks = !ok && OutOfSharedMemory(r);
      std::string err = Trim(PQerrorMessage(pg));
      PQclear(r);
      if (out_of_locks) return OutOfLocks("after locking about " + std::to_string(first) + " of them");
      if (!ok) return ConnectionError(Where() + ": cannot lock the tables to read: " + err);
    }
    return Status::Ok();
  }

  // The error for a server out of lock slots (SQLSTATE 53200), `when` saying
  // where the run was.
  Status OutOfLocks(const std::string& when) const {
    auto num = [&](size_t k) { return std::strtoull(lock_settings_[k].c_str(), nullptr, 10); };
    const unsigned long long per = num(0), conns = num(1), prepared = num(2);
    return ConnectionError(
        Where() + ": the server ran out of lock slots reading " + std::to_string(tables_.size()) + " tables over " +
        std::to_string(conns_.size()) + " connection" + (conns_.size() == 1 ? "" : "s") + " (" + when +
        "). Reading tables in one snapshot takes a lock on each until the end, as pg_dump does (with more than "
        "one connection, the first holds every table's lock and each other one those of the tables it reads); "
        "the server's "
        "lock table holds about max_locks_per_transaction (" +
        std::to_string(per) + ") x (max_connections (" + std::to_string(conns) + ") + max_prepared_transactions (" +
        std::to_string(prepared) + ")) = " + std::to_string(per * (conns + prepared)) +
        " locks, shared by every session. Raise max_locks_per_transaction (a server restart) to at least " +
        std::to_string((2 * tables_.size()) / std::max(1ull, conns + prepared) + 64) +
        ", or read fewer tables per run (-n/-t). Nothing was verified.");
  }

  // COPY with the columns in canonical order, so rows arrive canonical.
  std::string CopyQuery(const Piece& piece) const {
    const TableInfo& t = tables_[piece.table];
    if (plans_[piece.table].empty_on_standby) return "COPY (SELECT WHERE false) TO STDOUT";
    const char* to = plans_[piece.table].binary ? ") TO STDOUT (FORMAT binary)" : ") TO STDOUT";
    std::string cols;
    for (const std::string& c : t.columns) {
      if (!cols.empty()) cols += ", ";
      cols += QuoteIdent(c);
    }
    std::string table = QuoteIdent(t.schema) + "." + QuoteIdent(t.name);
    if (shard_count_ > 1 && !t.columns.empty()) {
      // One shard: the server selects the rows by a hash of the key (all
      // columns without one), so only 1/N of the table travels.
      std::string key;
      for (const std::string& c : t.key_columns.empty() ? t.columns : t.key_columns) {
        key += (key.empty() ? "" : ", ") + QuoteIdent(c);
      }
      return "COPY (SELECT " + cols + " FROM ONLY " + table + " WHERE (pg_catalog.hashtext(ROW(" + key +
             ")::text)::bigint & 2147483647) % " + std::to_string(shard_count_) + " = " + std::to_string(shard_index_) +
             to;
    }
    if (piece.ranged) {
      std::string where = "ctid >= '(" + std::to_string(piece.first_block) + ",0)'::pg_catalog.tid";
      if (piece.end_block != 0) where += " AND ctid < '(" + std::to_string(piece.end_block) + ",0)'::pg_catalog.tid";
      return "COPY (SELECT " + cols + " FROM ONLY " + table + " WHERE " + where + to;
    }
    std::string q = "COPY " + table;
    if (!t.columns.empty()) q += " (" + cols + ")";
    return q + (to + 1);
  }

  // Sends the next batch of COPY statements on `c`: one large table or TID
  // range, or as many small tables (up to kBatchTables, kBatchBytes by the
  // planner's size) in one query string, answered one COPY after the other.
  Status StartNextPiece(Conn& c) {
    constexpr size_t kBatchTables = 64;
    constexpr uint64_t kBatchBytes = 1 << 20;
    c.copying = false;
    c.decoder.reset();
    if (!c.queued.empty()) {  // the batch's next COPY is already on its way
      c.piece = c.queued.front();
      c.table = static_cast<int>(pieces_[static_cast<size_t>(c.piece)].table);
      c.queued.pop_front();
      return Status::Ok();
    }
    c.piece = c.table = -1;
    if (next_piece_ >= pieces_.size()) return Status::Ok();
    c.piece = static_cast<int>(next_piece_++);
    const Piece& first = pieces_[static_cast<size_t>(c.piece)];
    c.table = static_cast<int>(first.table);
    std::string sql = CopyQuery(first);
    uint64_t bytes = table_bytes_[first.table];
    while (!first.ranged && next_piece_ < pieces_.size() && !pieces_[next_piece_].ranged &&
           c.queued.size() + 1 < kBatchTables && bytes + table_bytes_[pieces_[next_piece_].table] <= kBatchBytes) {
      bytes += table_bytes_[pieces_[next_piece_].table];
      sql += ";" + CopyQuery(pieces_[next_piece_]);
      c.queued.push_back(static_cast<int>(next_piece_++));
    }
    if (!PQsendQuery(c.pg, sql.c_str())) {
      return ConnectionError(Where() + ": table " + tables_[static_cast<size_t>(c.table)].QualifiedName() + ": " +
                             Trim(PQerrorMessage(c.pg)));
    }
    return Status::Ok();
  }

  Status TableError(const Conn& c, const std::string& what) const {
    return ConnectionError(Where() + ": table " + tables_[static_cast<size_t>(c.table)].QualifiedName() + ": " + what);
  }

  // Moves whatever rows `c` has ready into `chunk` (rows of c's table only).
  // Returns true when c's piece ended; the chunk is then the table's last
  // when no other piece of it is left.
  Result<bool> Drain(Conn& c, RowChunk& chunk, size_t target) {
    if (!c.copying) {
      if (PQisBusy(c.pg)) return false;
      PGresult* r = PQgetResult(c.pg);
      ExecStatusType st = PQresultStatus(r);
      if (st != PGRES_COPY_OUT) {
        const bool out_of_locks = OutOfSharedMemory(r);
        std::string err = Trim(PQerrorMessage(c.pg));
        PQclear(r);
        if (out_of_locks) {
          return OutOfLocks("at table " + tables_[static_cast<size_t>(c.table)].QualifiedName() + ", " +
                            std::to_string(next_piece_) + " COPYs started");
        }
        return TableError(c, "COPY failed: " + err);
      }
      PQclear(r);
      c.copying = true;
      const BinaryPlan& plan = plans_[static_cast<size_t>(c.table)];
      // Binary rows are framed here and converted by the pipeline's
      // parallel stage (RowChunk::binary_columns).
      if (plan.binary) c.decoder = std::make_unique<BinaryCopyDecoder>(plan.columns, /*keep_tuples=*/true);
    }
    while (chunk.size < target) {
      char* row = nullptr;
      int n = PQgetCopyData(c.pg, &row, /*async=*/1);
      if (n > 0) {
        std::string_view rows(row, static_cast<size_t>(n));
        if (c.decoder) {  // binary: the message's whole tuples
          c.tuples.clear();
          Status st = c.decoder->Feed(rows, c.tuples);
          if (!st.ok()) {
            PQfreemem(row);
            return TableError(c, st.message());
          }
          rows = c.tuples;
          chunk.binary_columns = &plans_[static_cast<size_t>(c.table)].columns;
        }
        if (chunk.data.size() < chunk.size + rows.size()) {
          chunk.data.resize(std::max(chunk.size + rows.size(), std::min(target, chunk.data.size() * 2)));
        }
        std::memcpy(chunk.data.data() + chunk.size, rows.data(), rows.size());
        chunk.size += rows.size();
        PQfreemem(row);
        continue;
      }
      if (n == 0) return false;  // would block
      if (n == -1) {             // COPY finished: its command status must be OK
        PGresult* r = PQgetResult(c.pg);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK) return TableError(c, "COPY ended with an error: " + Trim(PQerrorMessage(c.pg)));
        if (c.decoder) {
          if (Status fin = c.decoder->Finish(); !fin.ok()) return TableError(c, fin.message());
        }
        if (c.queued.empty()) {  // the query string's last COPY: read to its end
          while ((r = PQgetResult(c.pg)) != nullptr) PQclear(r);
        }
        chunk.last_of_table = --remaining_pieces_[static_cast<size_t>(c.table)] == 0;
        return true;
      }
      return TableError(c, "connection lost during COPY: " + Trim(PQerrorMessage(c.pg)));
    }
    return false;
  }

  Result<bool> Fill(RowChunk& chunk, size_t target) {
    // Buffers start small and grow while a table goes on (Drain): with
    // 100,000 small tables the chunks in flight stay small.
    if (chunk.data.size() < std::min(target, kFirstChunkBytes)) chunk.data.resize(std::min(target, kFirstChunkBytes));
    while (true) {
      for (size_t k = 0; k < conns_.size(); ++k) {
        Conn& c = conns_[(rr_ + k) % conns_.size()];
        if (c.piece < 0) VOUCH_RETURN_IF_ERROR(StartNextPiece(c));
        if (c.piece < 0) continue;
        chunk.size = 0;
        chunk.table = &tables_[static_cast<size_t>(c.table)];
        chunk.table_index = static_cast<uint32_t>(c.table);
        chunk.offset = 0;
        chunk.last_of_table = false;
        chunk.binary_columns = nullptr;
        auto ended = Drain(c, chunk, target);
        if (!ended.ok()) return ended.status();
        if (*ended) VOUCH_RETURN_IF_ERROR(StartNextPiece(c));
        if (chunk.size > 0 || chunk.last_of_table) {
          rr_ = (rr_ + k + 1) % conns_.size();
          return true;
        }
      }
      // Decided after draining: a table that just ended may have been the last.
      bool any_active = std::any_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.piece >= 0; });
      if (!any_active) {
        for (Conn& c : conns_) Exec(c.pg, "COMMIT").message();
        VOUCH_RETURN_IF_ERROR(JoinSideRead());
        return false;
      }
      VOUCH_RETURN_IF_ERROR(WaitForData());
    }
  }

  Status WaitForData() {
    std::vector<pollfd> fds;
    for (Conn& c : conns_) {
      if (c.piece >= 0) fds.push_back(pollfd{PQsocket(c.pg), POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 60000) < 0 && errno != EINTR) {
      return ConnectionError(Where() + ": poll failed: " + std::strerror(errno));
    }
    for (Conn& c : conns_) {
      if (c.piece >= 0 && !PQconsumeInput(c.pg)) {
        return TableError(c, "connection lost: " + Trim(PQerrorMessage(c.pg)));
      }
    }
    return Status::Ok();
  }

  SourceInfo info_{"database", "", "none", {}};
  std::deque<TableInfo> tables_;
  std::vector<uint64_t> table_bytes_;  // the planner's estimate, per table
  // For Extent(): bytes of rows handed out, and table_bytes_'s sum (summed
  // on the first call, once the tables are known).
  uint64_t sent_ = 0;
  mutable std::optional<uint64_t> total_bytes_;
  std::vector<uint64_t> heap_pages_;   // the planner's page count of each table's heap
  // Per table: its binary COPY converters, or why it has none.
  struct BinaryPlan {
    std::vector<BinaryColumn> columns;
    uint32_t unsupported_type = 0;  // a column's type without a converter
    std::string unsupported_column;
    bool binary = false;  // read with binary COPY
    // An unlogged table on a hot standby: it has no rows there (they are
    // never replicated), and the server refuses to read it during recovery.
    // Read as empty, without touching it, and marked so.
    bool empty_on_standby = false;
  };
  std::vector<BinaryPlan> plans_;
  CopyFormat copy_format_ = CopyFormat::kAuto;
  int server_version_num_ = 0;
  bool in_recovery_ = false;  // a hot standby
  std::vector<Piece> pieces_;
  std::vector<uint32_t> remaining_pieces_;  // per table: pieces not yet ended
  // max_locks_per_transaction, max_connections, max_prepared_transactions
  std::array<std::string, 3> lock_settings_;
  std::vector<ForeignKey> foreign_keys_;
  SchemaCatalog schema_;
  bool has_schema_ = false;
  // HandSchemaTo: the sink, and whether the objects are all read and have
  // been handed to it (the read beside the rows may finish before or after
  // the sink is given).
  std::mutex schema_mu_;
  SchemaSink schema_sink_;
  bool schema_read_ = false, schema_handed_ = false;
  // The read beside the rows: its connection, while it runs, and what it reads.
  PGconn* side_pg_ = nullptr;
  PGconn* repl_ = nullptr;      // --at-lsn on a primary: the slot's connection, while the leader imports
  std::unique_ptr<PausedStandby> paused_;  // --at-lsn on a standby: replay paused until the reader goes
  std::string
      repl_slot_lsn_;  // --at-lsn on a primary: the slot's consistent point  // --at-lsn paused a standby's replay
  std::thread side_thread_;
  bool side_reads_schema_ = false;
  Status side_status_;
  uint32_t shard_index_ = 0, shard_count_ = 1;
  std::vector<Conn> conns_;
  size_t next_piece_ = 0;
  size_t rr_ = 0;
  Status failed_;
  const TableFilter* filter_ = nullptr;
  bool whole_ = false;  // the whole database is read: its sequences and large objects too
  bool sequences_read_ = false;  // whole_, and not rows only
  std::vector<SequenceInfo> sequences_;
  std::vector<LargeObjectInfo> large_objects_;
};

}  // namespace

bool LooksLikeConninfo(const std::string& spec) {
  if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) return true;
  // key=value conninfo: "dbname=x host=y"
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  for (size_t i = 0; i < eq; ++i) {
    char c = spec[i];
    if (!((c >= 'a' && c <= 'z') || c == '_' || c == ' ')) return false;
  }
  return true;
}

Result<std::unique_ptr<TableStreamReader>> OpenLiveReader(const std::string& conninfo, const LiveOptions& options) {
  auto reader = std::make_unique<LiveReader>();
  VOUCH_RETURN_IF_ERROR(reader->Open(conninfo, options));
  return std::unique_ptr<TableStreamReader>(std::move(reader));
}

}  // namespace vouch
