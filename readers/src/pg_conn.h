// libpq handles that close themselves, and the text of an error, for the
// readers that talk to a server outside the live reader's own sessions
// (amcheck, the paused standby).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "vouch/status.h"

namespace vouch::pg {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Res = std::unique_ptr<PGresult, decltype(&PQclear)>;

// libpq's messages end in a newline.
inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The error of a failed result: its primary message, and its detail.
inline std::string ErrorOf(PGconn* pg, PGresult* r) {
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  if (primary == nullptr) return Trim(PQerrorMessage(pg));
  std::string out = primary;
  if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) out += std::string(" (") + detail + ")";
  return out;
}

// A connection to `conninfo` (a URI or key=value string; credentials from
// libpq), or the error "`what`: cannot connect to the database: ...".
inline Result<Conn> Connect(const std::string& conninfo, const std::string& what) {
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), "vouch", nullptr};
  Conn pg(PQconnectdbParams(keys, values, /*expand_dbname=*/1), &PQfinish);
  if (PQstatus(pg.get()) != CONNECTION_OK) {
    return ConnectionError(what + ": cannot connect to the database: " + Trim(PQerrorMessage(pg.get())));
  }
  return pg;
}

// Runs `sql`; its result, or the error "`where`: <the server's message>".
inline Result<Res> Exec(PGconn* pg, const std::string& sql, const std::string& where) {
  Res r(PQexec(pg, sql.c_str()), &PQclear);
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ConnectionError(where + ": " + ErrorOf(pg, r.get()));
  return r;
}

}  // namespace vouch::pg
