#include "vouch/readers/live_lookup.h"

#include "pg_conn.h"

namespace vouch {

Result<std::optional<std::string>> ReadValueAt(const std::string& conninfo, const std::string& schema,
                                               const std::string& table, const std::string& key_column, int64_t key,
                                               const std::string& column) {
  auto connected = pg::Connect(conninfo, "reading " + schema + "." + table);
  if (!connected.ok()) return connected.status();
  PGconn* pg = connected->get();
  auto ident = [&](const std::string& s) {
    char* q = PQescapeIdentifier(pg, s.c_str(), s.size());
    std::string out = q ? q : "";
    PQfreemem(q);
    return out;
  };
  const std::string where = "reading " + schema + "." + table;
  auto set = pg::Exec(pg, "SET bytea_output = hex; SET TimeZone = 'UTC'", where);
  if (!set.ok()) return set.status();
  const std::string sql = "SELECT " + ident(column) + "::text FROM " + ident(schema) + "." + ident(table) + " WHERE " +
                          ident(key_column) + " = " + std::to_string(key) + " LIMIT 1";
  auto r = pg::Exec(pg, sql, where);
  if (!r.ok()) return r.status();
  if (PQntuples(r->get()) == 0 || PQgetisnull(r->get(), 0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(PQgetvalue(r->get(), 0, 0));
}

}  // namespace vouch
