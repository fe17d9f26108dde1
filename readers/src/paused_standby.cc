#include "vouch/readers/paused_standby.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "pg_conn.h"

namespace vouch {

struct PausedStandby::Handle {
  pg::Conn conn;
};

namespace {

Result<std::string> ReplayLsnNow(PGconn* pg, const std::string& where) {
  auto r = pg::Exec(pg, "SELECT pg_catalog.pg_last_wal_replay_lsn()::text", where);
  if (!r.ok()) return r.status();
  return std::string(PQgetvalue(r->get(), 0, 0));
}

}  // namespace

Result<std::unique_ptr<PausedStandby>> PausedStandby::Pause(const std::string& conninfo) {
  auto connected = pg::Connect(conninfo, "pausing a standby's replay");
  if (!connected.ok()) return connected.status();
  std::unique_ptr<PausedStandby> p(new PausedStandby);
  p->pg_ = std::make_unique<Handle>(Handle{std::move(connected).value()});
  PGconn* pg = p->pg_->conn.get();
  p->where_ = std::string("postgresql://") + PQuser(pg) + "@" + PQhost(pg) + ":" + PQport(pg);
  const std::string& where = p->where_;
  auto facts = pg::Exec(pg,
                        "SELECT pg_catalog.pg_is_in_recovery(), "
                        "pg_catalog.current_setting('server_version_num')::int",
                        where);
  if (!facts.ok()) return facts.status();
  if (std::string_view(PQgetvalue(facts->get(), 0, 0)) != "t") {
    return InvalidArgument(where +
                           " is a primary: only a hot standby, its replay paused, holds every database at one WAL "
                           "position (a logical slot's snapshot covers one database: digest each with --at-lsn)");
  }
  if (std::atoi(PQgetvalue(facts->get(), 0, 1)) < 140000) {
    return Unsupported(where +
                       ": pausing a standby at a WAL position needs PostgreSQL 14 or later "
                       "(pg_get_wal_replay_pause_state)");
  }
  auto state = [&]() -> Result<std::string> {
    auto r = pg::Exec(pg, "SELECT pg_catalog.pg_get_wal_replay_pause_state()", where);
    if (!r.ok()) return r.status();
    return std::string(PQgetvalue(r->get(), 0, 0));
  };
  auto before = state();
  if (!before.ok()) return before.status();
  if (*before == "not paused") {
    auto paused = pg::Exec(pg, "SELECT pg_catalog.pg_wal_replay_pause()", where);
    if (!paused.ok()) return paused.status();
    p->resume_ = true;
  }
  // A pause is requested, then takes effect at the next record.
  for (int i = 0;; ++i) {
    auto now = state();
    if (!now.ok()) return now.status();
    if (*now == "paused") break;
    if (i == 6000) return IoError(where + ": WAL replay did not pause within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto lsn = ReplayLsnNow(pg, where);
  if (!lsn.ok()) return lsn.status();
  p->lsn_ = std::move(lsn).value();
  auto dbs = pg::Exec(pg,
                      "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate "
                      "ORDER BY datname COLLATE \"C\"",
                      where);
  if (!dbs.ok()) return dbs.status();
  for (int i = 0; i < PQntuples(dbs->get()); ++i) p->databases_.push_back(PQgetvalue(dbs->get(), i, 0));
  return p;
}

Status PausedStandby::StillAt() const {
  auto now = ReplayLsnNow(pg_->conn.get(), where_);
  if (!now.ok()) return now.status();
  if (*now != lsn_) {
    return IoError(where_ + ": WAL replay moved from " + lsn_ + " to " + *now +
                   " during the read (resumed by someone else): the databases were not read at one position");
  }
  return Status::Ok();
}

Status PausedStandby::Resume() {
  if (!resume_) return Status::Ok();
  resume_ = false;
  auto r = pg::Exec(pg_->conn.get(), "SELECT pg_catalog.pg_wal_replay_resume()", where_);
  return r.ok() ? Status::Ok() : r.status();
}

PausedStandby::~PausedStandby() {
  if (pg_) (void)Resume();
}

Result<std::string> ConninfoForDatabase(const std::string& conninfo, const std::string& database) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string msg = err ? pg::Trim(err) : "out of memory";
    PQfreemem(err);
    return InvalidArgument("cannot parse the connection string: " + msg);
  }
  auto quoted = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "dbname=" + quoted(database);
}

}  // namespace vouch
