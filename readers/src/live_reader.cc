#include "vouch/readers/live_reader.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace vouch {
namespace {

// pg_dump's settings plus the three it leaves to the environment.
const char* const kSessionSetup =
    "SELECT pg_catalog.set_config('search_path', '', false);"
    "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3;"
    "SET row_security = off; SET TimeZone = 'UTC'; SET bytea_output = 'hex';"
    "SET client_encoding = 'UTF8'; SET statement_timeout = 0; SET lock_timeout = 0;"
    "SET idle_in_transaction_session_timeout = 0;";

// Tables whose data pg_dump would dump: ordinary tables and leaf partitions
// (partitioned parents hold no rows), not in system schemas, not members of
// an extension. Columns: not dropped, not generated (pg_dump skips those).
const char* const kDiscoverTables =
    "SELECT n.nspname, c.relname, c.oid::bigint, "
    "  pg_catalog.pg_relation_size(c.oid) + COALESCE(pg_catalog.pg_relation_size(c.reltoastrelid), 0) AS bytes, "
    "  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a "
    "        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
    "        ORDER BY a.attnum) AS cols, "
    // The primary key, else the first unique index over NOT NULL columns.
    "  (SELECT ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a "
    "                WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) "
    "                ORDER BY array_position(i.indkey::int2[], a.attnum)) "
    "   FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL "
    "     AND i.indexprs IS NULL AND (i.indisprimary OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
    "       WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull)) "
    "   ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) AS key, "
    // timestamp and timestamptz columns (or domains over them), in attnum order.
    "  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
    "        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
    "          AND (CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE a.atttypid END) "
    "              IN ('pg_catalog.timestamp'::pg_catalog.regtype, 'pg_catalog.timestamptz'::pg_catalog.regtype) "
    "        ORDER BY a.attnum) AS time_cols, "
    // A leaf partition's partitioned ancestors, its parent first, its root
    // last: their schemas and names, in the same single query.
    "  CASE WHEN c.relispartition THEN ARRAY(SELECT an.nspname::text "
    "        FROM pg_catalog.pg_partition_ancestors(c.oid) WITH ORDINALITY x(rel, o) "
    "        JOIN pg_catalog.pg_class ac ON ac.oid = x.rel JOIN pg_catalog.pg_namespace an ON an.oid = ac.relnamespace "
    "        WHERE x.rel <> c.oid ORDER BY x.o) END AS ancestor_schemas, "
    "  CASE WHEN c.relispartition THEN ARRAY(SELECT ac.relname::text "
    "        FROM pg_catalog.pg_partition_ancestors(c.oid) WITH ORDINALITY x(rel, o) "
    "        JOIN pg_catalog.pg_class ac ON ac.oid = x.rel WHERE x.rel <> c.oid ORDER BY x.o) END AS ancestor_names "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
    "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass "
    "                  AND d.objid = c.oid AND d.deptype = 'e') "
    "ORDER BY bytes DESC, n.nspname, c.relname";

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

struct Conn {
  PGconn* pg = nullptr;
  int table = -1;        // table being copied, -1 when idle
  bool copying = false;  // COPY OUT established
};

class LiveReader final : public TableStreamReader {
 public:
  ~LiveReader() override {
    for (Conn& c : conns_) PQfinish(c.pg);
  }

  Status Open(const std::string& conninfo, const LiveOptions& opt) {
    PGconn* leader = nullptr;
    VOUCH_RETURN_IF_ERROR(Connect(conninfo, &leader));
    conns_.push_back(Conn{leader});
    Result<std::string> snapshot = BeginSnapshot(leader, /*export_snapshot=*/true, "");
    if (!snapshot.ok()) return snapshot.status();
    filter_ = opt.filter;
    shard_index_ = opt.shard_index;
    shard_count_ = opt.shard_count;
    if (shard_count_ > 1) {
      info_.properties["shard"] = std::to_string(shard_index_) + "/" + std::to_string(shard_count_);
      info_.properties["shard_method"] = "server: hashtext(ROW(key)::text) % N";
    }
    VOUCH_RETURN_IF_ERROR(Discover(leader, opt.only_tables));
    VOUCH_RETURN_IF_ERROR(DiscoverForeignKeys(leader));
    int jobs = std::max(1, std::min<int>(opt.jobs, static_cast<int>(tables_.size())));
    for (int i = 1; i < jobs; ++i) {
      PGconn* w = nullptr;
      VOUCH_RETURN_IF_ERROR(Connect(conninfo, &w));
      conns_.push_back(Conn{w});
      auto st = BeginSnapshot(w, false, *snapshot);
      if (!st.ok()) return st.status();
    }
    return Status::Ok();
  }

  Result<bool> NextChunk(RowChunk& chunk, size_t target) override {
    if (!failed_.ok()) return failed_;
    auto r = Fill(chunk, std::max<size_t>(target, 64));
    if (!r.ok()) failed_ = r.status();
    return r;
  }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  const SourceInfo& source_info() const override { return info_; }
  const std::vector<ForeignKey>* foreign_keys() const override { return &foreign_keys_; }
  bool yields_one_shard() const override { return shard_count_ > 1; }

 private:
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

  // Opens the read-only snapshot transaction; the leader exports its
  // snapshot, the workers import it.
  Result<std::string> BeginSnapshot(PGconn* pg, bool export_snapshot, const std::string& snapshot) {
    VOUCH_RETURN_IF_ERROR(Exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    if (!export_snapshot) {
      VOUCH_RETURN_IF_ERROR(Exec(pg, "SET TRANSACTION SNAPSHOT '" + snapshot + "'"));
      return std::string();
    }
    PGresult* r = PQexec(pg,
                         "SELECT pg_catalog.pg_export_snapshot(), pg_catalog.current_setting('server_version'), "
                         "pg_catalog.pg_is_in_recovery(), "
                         "CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn() "
                         "ELSE pg_catalog.pg_current_wal_lsn() END::text, "
                         "to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                         "pg_catalog.current_database()");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = PQerrorMessage(pg);
      PQclear(r);
      return ConnectionError(Where() + ": cannot export a snapshot: " + Trim(err));
    }
    std::string snap = PQgetvalue(r, 0, 0);
    info_.properties["server_version"] = PQgetvalue(r, 0, 1);
    info_.properties["in_recovery"] = std::string(PQgetvalue(r, 0, 2)) == "t" ? "true" : "false";
    info_.properties[info_.properties["in_recovery"] == "true" ? "replay_lsn" : "wal_lsn"] = PQgetvalue(r, 0, 3);
    info_.properties["snapshot_time"] = PQgetvalue(r, 0, 4);
    info_.properties["database"] = PQgetvalue(r, 0, 5);
    PQclear(r);
    return snap;
  }

  Status Discover(PGconn* pg, const std::vector<std::string>& only) {
    PGresult* r = PQexec(pg, kDiscoverTables);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string err = PQerrorMessage(pg);
      PQclear(r);
      return ConnectionError(Where() + ": cannot list tables: " + Trim(err));
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      TableInfo t;
      t.schema = PQgetvalue(r, i, 0);
      t.name = PQgetvalue(r, i, 1);
      // COPY will list the columns in canonical (byte) order, so that is the
      // order the rows arrive in.
      std::vector<std::string> cols = ParseTextArray(PQgetvalue(r, i, 4));
      std::sort(cols.begin(), cols.end());
      t.SetColumns(std::move(cols));
      if (!PQgetisnull(r, i, 5)) t.key_columns = ParseTextArray(PQgetvalue(r, i, 5));
      t.time_columns = ParseTextArray(PQgetvalue(r, i, 6));
      if (!PQgetisnull(r, i, 7)) {
        std::vector<std::string> schemas = ParseTextArray(PQgetvalue(r, i, 7));
        std::vector<std::string> names = ParseTextArray(PQgetvalue(r, i, 8));
        for (size_t k = 0; k < schemas.size() && k < names.size(); ++k) {
          t.partition_ancestors.push_back({schemas[k], names[k]});
        }
      }
      if (!only.empty() && std::find(only.begin(), only.end(), t.QualifiedName()) == only.end()) continue;
      if (filter_ && !filter_->Selects(t)) continue;
      tables_.push_back(std::move(t));
    }
    PQclear(r);
    return Status::Ok();
  }

  // COPY with the columns in canonical order, so rows arrive canonical.
  std::string CopyQuery(const TableInfo& t) const {
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
             ") TO STDOUT";
    }
    std::string q = "COPY " + table;
    if (!t.columns.empty()) q += " (" + cols + ")";
    return q + " TO STDOUT";
  }

  Status StartNextTable(Conn& c) {
    c.table = -1;
    c.copying = false;
    if (next_table_ >= tables_.size()) return Status::Ok();
    c.table = static_cast<int>(next_table_++);
    if (!PQsendQuery(c.pg, CopyQuery(tables_[static_cast<size_t>(c.table)]).c_str())) {
      return ConnectionError(Where() + ": table " + tables_[static_cast<size_t>(c.table)].QualifiedName() + ": " +
                             Trim(PQerrorMessage(c.pg)));
    }
    return Status::Ok();
  }

  Status TableError(const Conn& c, const std::string& what) const {
    return ConnectionError(Where() + ": table " + tables_[static_cast<size_t>(c.table)].QualifiedName() + ": " + what);
  }

  // Moves whatever rows `c` has ready into `chunk` (rows of c's table only).
  // Returns true when c's table ended.
  Result<bool> Drain(Conn& c, RowChunk& chunk, size_t target) {
    if (!c.copying) {
      if (PQisBusy(c.pg)) return false;
      PGresult* r = PQgetResult(c.pg);
      ExecStatusType st = PQresultStatus(r);
      PQclear(r);
      if (st != PGRES_COPY_OUT) return TableError(c, "COPY failed: " + Trim(PQerrorMessage(c.pg)));
      c.copying = true;
    }
    while (chunk.size < target) {
      char* row = nullptr;
      int n = PQgetCopyData(c.pg, &row, /*async=*/1);
      if (n > 0) {
        if (chunk.data.size() < chunk.size + static_cast<size_t>(n)) {
          chunk.data.resize(std::max(chunk.size + static_cast<size_t>(n), std::max(target, chunk.data.size() * 2)));
        }
        std::memcpy(chunk.data.data() + chunk.size, row, static_cast<size_t>(n));
        chunk.size += static_cast<size_t>(n);
        PQfreemem(row);
        continue;
      }
      if (n == 0) return false;  // would block
      if (n == -1) {             // COPY finished: its command status must be OK
        PGresult* r = PQgetResult(c.pg);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        while ((r = PQgetResult(c.pg)) != nullptr) PQclear(r);
        if (st != PGRES_COMMAND_OK) return TableError(c, "COPY ended with an error: " + Trim(PQerrorMessage(c.pg)));
        return true;
      }
      return TableError(c, "connection lost during COPY: " + Trim(PQerrorMessage(c.pg)));
    }
    return false;
  }

  Result<bool> Fill(RowChunk& chunk, size_t target) {
    if (chunk.data.size() < target) chunk.data.resize(target);
    while (true) {
      for (size_t k = 0; k < conns_.size(); ++k) {
        Conn& c = conns_[(rr_ + k) % conns_.size()];
        if (c.table < 0) VOUCH_RETURN_IF_ERROR(StartNextTable(c));
        if (c.table < 0) continue;
        chunk.size = 0;
        chunk.table = &tables_[static_cast<size_t>(c.table)];
        chunk.table_index = static_cast<uint32_t>(c.table);
        chunk.offset = 0;
        auto ended = Drain(c, chunk, target);
        if (!ended.ok()) return ended.status();
        if (*ended) VOUCH_RETURN_IF_ERROR(StartNextTable(c));
        if (chunk.size > 0) {
          rr_ = (rr_ + k + 1) % conns_.size();
          return true;
        }
      }
      // Decided after draining: a table that just ended may have been the last.
      bool any_active = std::any_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.table >= 0; });
      if (!any_active) {
        for (Conn& c : conns_) Exec(c.pg, "COMMIT").message();
        return false;
      }
      VOUCH_RETURN_IF_ERROR(WaitForData());
    }
  }

  Status WaitForData() {
    std::vector<pollfd> fds;
    for (Conn& c : conns_) {
      if (c.table >= 0) fds.push_back(pollfd{PQsocket(c.pg), POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 60000) < 0 && errno != EINTR) {
      return ConnectionError(Where() + ": poll failed: " + std::strerror(errno));
    }
    for (Conn& c : conns_) {
      if (c.table >= 0 && !PQconsumeInput(c.pg)) {
        return TableError(c, "connection lost: " + Trim(PQerrorMessage(c.pg)));
      }
    }
    return Status::Ok();
  }

  SourceInfo info_{"database", "", "none", {}};
  std::deque<TableInfo> tables_;
  std::vector<ForeignKey> foreign_keys_;
  uint32_t shard_index_ = 0, shard_count_ = 1;
  std::vector<Conn> conns_;
  size_t next_table_ = 0;
  size_t rr_ = 0;
  Status failed_;
  const TableFilter* filter_ = nullptr;
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
