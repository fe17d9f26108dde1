#include "vouch/readers/amcheck.h"

#include <libpq-fe.h>

#include <memory>

#include "pg_conn.h"

namespace vouch {
namespace {

using pg::Conn;
using pg::ErrorOf;
using pg::Res;

// Every valid, ready B-tree index outside the system schemas and temporary
// tables: its OID, its name and its table's. Not a partitioned table's own
// index (relkind 'I'): it holds no entries, and amcheck refuses it; each
// partition's index is checked.
constexpr const char* kIndexes =
    "SELECT c.oid, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
    "pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.relname) "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = c.relam JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
    "WHERE am.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't' "
    "AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(toast|temp_)' "
    "ORDER BY c.oid";

}  // namespace

Result<IndexCheckResult> CheckBtreeIndexes(const std::string& conninfo) {
  auto connected = pg::Connect(conninfo, "amcheck");
  if (!connected.ok()) return connected.status();
  Conn pg = std::move(connected).value();
  const std::string where = std::string("amcheck on ") + PQdb(pg.get());
  auto exec = [&](const std::string& sql) { return pg::Exec(pg.get(), sql, where); };
  // The schema amcheck lives in (quoted), or none.
  auto amcheck_schema = [&]() -> Result<Res> {
    return exec(
        "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'");
  };
  auto ext = amcheck_schema();
  if (!ext.ok()) return ext.status();
  const bool create = PQntuples(ext->get()) == 0;
  if (create) {
    auto created = exec("CREATE EXTENSION amcheck");
    if (!created.ok()) {
      return Unsupported(created.status().message() +
                         ": --amcheck needs the amcheck extension (PostgreSQL's contrib; CREATE EXTENSION amcheck as "
                         "a superuser)");
    }
    ext = amcheck_schema();
    if (ext.ok() && PQntuples(ext->get()) == 0)
      ext = ConnectionError(where + ": amcheck was created but is not listed");
  }
  IndexCheckResult out;
  Status st = ext.ok() ? Status::Ok() : ext.status();
  auto indexes = st.ok() ? exec(kIndexes) : Result<Res>(st);
  if (st.ok() && !indexes.ok()) st = indexes.status();
  if (st.ok()) {
    const std::string call = "SELECT " + std::string(PQgetvalue(ext->get(), 0, 0)) +
                             ".bt_index_check($1::pg_catalog.oid::pg_catalog.regclass, true)";
    PGresult* list = indexes->get();
    for (int i = 0; i < PQntuples(list); ++i) {
      const char* oid = PQgetvalue(list, i, 0);
      Res r(PQexecParams(pg.get(), call.c_str(), 1, nullptr, &oid, nullptr, nullptr, 0), &PQclear);
      ++out.checked;
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) continue;
      // A lost connection is an error of the run, not a finding about this
      // index (nor about every one after it).
      if (PQstatus(pg.get()) != CONNECTION_OK) {
        return ConnectionError(where + ": connection lost while checking " + PQgetvalue(list, i, 1) + ": " +
                               ErrorOf(pg.get(), r.get()));
      }
      out.failures.push_back({PQgetvalue(list, i, 1), PQgetvalue(list, i, 2), ErrorOf(pg.get(), r.get())});
    }
  }
  if (create) {
    auto dropped = exec("DROP EXTENSION amcheck");
    if (!dropped.ok() && st.ok()) st = dropped.status();
  }
  if (!st.ok()) return st;
  return out;
}

}  // namespace vouch
