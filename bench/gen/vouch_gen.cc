// vouch-gen: generates the drill-shaped dataset of docs/design.md ("The drill dataset") into a
// PostgreSQL database through COPY, deterministically for (scale, seed).
//
//   agents → sessions → tasks → executions → tool_calls   (foreign keys)
//   audit_log(seq, ts, actor, action, payload, prev_hash, hash) with
//   hash = hex(sha256(prev_hash|seq|ts|actor|action|payload)), ts written
//   YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC), genesis prev_hash = 64 zeros.
//
// Row counts at scale 1.0 are those of a real DR report (≈ 4.0 M rows, ≈ 1 GB).
// Tables are created without constraints, loaded, then keys are added.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "vouch/base/civil_time.h"

namespace {

struct Table {
  const char* name;
  double base_rows;
  const char* ddl;
  const char* keys;  // run after loading
};

const Table kTables[] = {
    {"agents", 1247,
     "CREATE TABLE public.agents (id bigint NOT NULL, name text NOT NULL, model text, config jsonb, "
     "created_at timestamptz NOT NULL, updated_at timestamptz)",
     "ALTER TABLE public.agents ADD PRIMARY KEY (id)"},
    {"sessions", 23156,
     "CREATE TABLE public.sessions (id bigint NOT NULL, agent_id bigint NOT NULL, started_at timestamptz NOT NULL, "
     "ended_at timestamptz, status text NOT NULL, metadata jsonb)",
     "ALTER TABLE public.sessions ADD PRIMARY KEY (id), "
     "ADD CONSTRAINT sessions_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id)"},
    {"tasks", 89432,
     "CREATE TABLE public.tasks (id bigint NOT NULL, session_id bigint NOT NULL, title text NOT NULL, "
     "priority integer NOT NULL, state text NOT NULL, created_at timestamptz NOT NULL, completed_at timestamptz)",
     "ALTER TABLE public.tasks ADD PRIMARY KEY (id), "
     "ADD CONSTRAINT tasks_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id)"},
    {"executions", 156789,
     "CREATE TABLE public.executions (id bigint NOT NULL, task_id bigint NOT NULL, attempt integer NOT NULL, "
     "started_at timestamptz NOT NULL, finished_at timestamptz, exit_code integer, duration_ms numeric(12,3), "
     "output bytea)",
     "ALTER TABLE public.executions ADD PRIMARY KEY (id), "
     "ADD CONSTRAINT executions_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.tasks(id)"},
    {"tool_calls", 892441,
     "CREATE TABLE public.tool_calls (id bigint NOT NULL, execution_id bigint NOT NULL, tool text NOT NULL, "
     "args jsonb, result_digest bytea, latency_ms double precision, called_at timestamptz NOT NULL)",
     "ALTER TABLE public.tool_calls ADD PRIMARY KEY (id), "
     "ADD CONSTRAINT tool_calls_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES public.executions(id)"},
    {"audit_log", 2847293,
     "CREATE TABLE public.audit_log (seq bigint NOT NULL, ts timestamptz NOT NULL, actor text NOT NULL, "
     "action text NOT NULL, payload text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)",
     "ALTER TABLE public.audit_log ADD PRIMARY KEY (seq)"},
};

// splitmix64: a fixed, portable PRNG (std:: distributions differ by library).
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n ? Next() % n : 0; }
  bool Chance(unsigned percent) { return Below(100) < percent; }
};

// Microseconds since the Unix epoch, rendered in UTC.
struct Civil {
  int64_t y;
  unsigned m, d, hh, mm, ss, us;
};
Civil ToCivil(int64_t micros) {
  using vouch::CivilDate, vouch::CivilFromDays, vouch::FloorDiv, vouch::FloorMod;
  const int64_t secs = FloorDiv(micros, 1000000);
  const unsigned us = static_cast<unsigned>(FloorMod(micros, 1000000));
  const int64_t rem = FloorMod(secs, 86400);
  const CivilDate c = CivilFromDays(FloorDiv(secs, 86400));
  return {c.year,
          static_cast<unsigned>(c.month),
          static_cast<unsigned>(c.day),
          static_cast<unsigned>(rem / 3600),
          static_cast<unsigned>(rem % 3600 / 60),
          static_cast<unsigned>(rem % 60),
          us};
}
void AppendTimestamptz(std::string& out, int64_t micros) {  // COPY input form
  Civil c = ToCivil(micros);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", c.y, c.m, c.d, c.hh, c.mm,
                 c.ss, c.us);
}
std::string AuditTimestamp(int64_t micros) {  // the chain's rendering
  Civil c = ToCivil(micros);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", c.y, c.m, c.d, c.hh, c.mm, c.ss, c.us);
}

constexpr int64_t kStart = 1757924530LL * 1000000;  // 2025-09-15 08:22:10 UTC
constexpr int64_t kEnd = 1759250880LL * 1000000;    // 2025-09-30 16:48:00 UTC
constexpr int64_t kSpan = kEnd - kStart;

void AppendHex(std::string& out, const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(d[p[i] >> 4]);
    out.push_back(d[p[i] & 15]);
  }
}

class Loader {
 public:
  explicit Loader(PGconn* c) : conn_(c) {}
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      Die(sql.substr(0, 80) + ": " + PQerrorMessage(conn_));
    }
    PQclear(r);
  }
  void BeginCopy(const char* table) {
    PGresult* r = PQexec(conn_, fmt::format("COPY public.{} FROM STDIN", table).c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN) Die(std::string("COPY ") + table + ": " + PQerrorMessage(conn_));
    PQclear(r);
  }
  // Sends buf when it is large enough (or `force`), then clears it.
  void Flush(std::string& buf, bool force = false) {
    if (buf.size() < (4u << 20) && !force) return;
    if (!buf.empty() && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) {
      Die(std::string("COPY data: ") + PQerrorMessage(conn_));
    }
    buf.clear();
  }
  void EndCopy(std::string& buf) {
    Flush(buf, true);
    if (PQputCopyEnd(conn_, nullptr) != 1) Die(std::string("COPY end: ") + PQerrorMessage(conn_));
    PGresult* r = PQgetResult(conn_);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(std::string("COPY: ") + PQerrorMessage(conn_));
    PQclear(r);
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
  }
  [[noreturn]] static void Die(const std::string& msg) {
    std::fprintf(stderr, "vouch-gen: %s\n", msg.c_str());
    std::exit(1);
  }

 private:
  PGconn* conn_;
};

const char* const kModels[] = {"gpt-4o", "claude-3.5", "llama-3-70b", "mistral-large", "gemini-1.5"};
const char* const kStatuses[] = {"active", "completed", "failed", "timeout"};
const char* const kStates[] = {"pending", "running", "done", "failed", "cancelled"};
const char* const kTools[] = {"search", "read_file", "write_file", "http_get", "sql_query", "shell", "summarize"};
const char* const kActions[] = {"login",       "logout",    "task.create",   "task.update", "exec.start",
                                "exec.finish", "tool.call", "config.change", "key.rotate",  "export"};
// Titles exercise COPY escaping: tab, newline, backslash, non-ASCII.
const char* const kTitleExtras[] = {"tab\\there", "line\\nbreak",   "back\\\\slash",
                                    "café é",     "日本語のタスク", "quote ' and \" marks"};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vouch-gen: generate the drill dataset into PostgreSQL (connection from PG* variables)"};
  double scale = 0.01;
  uint64_t seed = 42;
  std::string dbname;
  bool drop = false;
  app.add_option("--scale", scale, "1.0 ≈ 4 M rows, 1 GB")->check(CLI::Range(0.0001, 1000.0));
  app.add_option("--seed", seed, "PRNG seed");
  app.add_option("--dbname", dbname, "database (default: PGDATABASE)");
  app.add_flag("--drop-existing", drop, "drop the six tables first");
  CLI11_PARSE(app, argc, argv);

  std::string conninfo = dbname.empty() ? "" : "dbname='" + dbname + "'";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Loader::Die(std::string("connection failed: ") + PQerrorMessage(conn));
  Loader db(conn);
  db.Exec("SET synchronous_commit = off");
  db.Exec("SET client_min_messages = warning");
  if (drop)
    db.Exec(
        "DROP TABLE IF EXISTS public.tool_calls, public.executions, public.tasks, public.sessions, public.agents, "
        "public.audit_log");
  for (const Table& t : kTables) db.Exec(t.ddl);

  std::vector<int64_t> n;
  for (const Table& t : kTables) n.push_back(std::max<int64_t>(1, std::llround(t.base_rows * scale)));
  auto clock = std::chrono::steady_clock::now;
  auto t0 = clock();
  std::string buf;
  buf.reserve(5 << 20);
  std::vector<int64_t> parent_time, child_time;

  auto report = [&](const char* name, int64_t rows, std::chrono::steady_clock::time_point since) {
    std::fprintf(stderr, "vouch-gen: %-10s %9lld rows %6.2f s\n", name, static_cast<long long>(rows),
                 std::chrono::duration<double>(clock() - since).count());
  };

  {  // agents
    auto ts = clock();
    Rng rng{seed * 1000003 + 1};
    db.BeginCopy("agents");
    parent_time.resize(static_cast<size_t>(n[0]));
    for (int64_t i = 0; i < n[0]; ++i) {
      int64_t created = kStart + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(kSpan / 10)));
      parent_time[static_cast<size_t>(i)] = created;
      fmt::format_to(std::back_inserter(buf), "{}\tagent-{:05}\t{}\t{{\"temperature\": 0.{}, \"max_tokens\": {}}}\t",
                     i + 1, i + 1, kModels[rng.Below(5)], rng.Below(10), 256 << rng.Below(5));
      AppendTimestamptz(buf, created);
      buf += '\t';
      if (rng.Chance(20))
        buf += "\\N";
      else
        AppendTimestamptz(buf, created + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(kEnd - created))));
      buf += '\n';
      db.Flush(buf);
    }
    db.EndCopy(buf);
    report("agents", n[0], ts);
  }

  // A child table: each row picks a parent and a time after the parent's.
  auto children = [&](size_t idx, auto&& write_row) {
    auto ts = clock();
    Rng rng{seed * 1000003 + idx + 1};
    db.BeginCopy(kTables[idx].name);
    child_time.assign(static_cast<size_t>(n[idx]), 0);
    for (int64_t i = 0; i < n[idx]; ++i) {
      uint64_t parent = rng.Below(parent_time.size());
      int64_t pt = parent_time[parent];
      int64_t t = pt + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(std::max<int64_t>(1, (kEnd - pt) / 4))));
      child_time[static_cast<size_t>(i)] = t;
      write_row(rng, i + 1, static_cast<int64_t>(parent) + 1, t);
      db.Flush(buf);
    }
    db.EndCopy(buf);
    parent_time.swap(child_time);
    report(kTables[idx].name, n[idx], ts);
  };

  children(1, [&](Rng& rng, int64_t id, int64_t agent, int64_t t) {
    fmt::format_to(std::back_inserter(buf), "{}\t{}\t", id, agent);
    AppendTimestamptz(buf, t);
    buf += '\t';
    if (rng.Chance(10))
      buf += "\\N";
    else
      AppendTimestamptz(buf, t + static_cast<int64_t>(rng.Below(3600000000ull)));
    fmt::format_to(std::back_inserter(buf), "\t{}\t{{\"client\": \"cli-{}\", \"region\": \"eu-{}\"}}\n",
                   kStatuses[rng.Below(4)], rng.Below(100), rng.Below(3));
  });
  children(2, [&](Rng& rng, int64_t id, int64_t session, int64_t t) {
    fmt::format_to(std::back_inserter(buf), "{}\t{}\tTask {} for session {}", id, session, id, session);
    if (id % 50 == 0) fmt::format_to(std::back_inserter(buf), " {}", kTitleExtras[rng.Below(6)]);
    fmt::format_to(std::back_inserter(buf), "\t{}\t{}\t", rng.Below(5), kStates[rng.Below(5)]);
    AppendTimestamptz(buf, t);
    buf += '\t';
    if (rng.Chance(30))
      buf += "\\N";
    else
      AppendTimestamptz(buf, t + static_cast<int64_t>(rng.Below(7200000000ull)));
    buf += '\n';
  });
  children(3, [&](Rng& rng, int64_t id, int64_t task, int64_t t) {
    uint64_t dur = rng.Below(600000000);
    fmt::format_to(std::back_inserter(buf), "{}\t{}\t{}\t", id, task, 1 + rng.Below(3));
    AppendTimestamptz(buf, t);
    buf += '\t';
    if (rng.Chance(5)) {
      buf += "\\N\t\\N\t\\N\t\\N\n";
      return;
    }
    AppendTimestamptz(buf, t + static_cast<int64_t>(dur));
    fmt::format_to(std::back_inserter(buf), "\t{}\t{}.{:03}\t\\\\x", rng.Chance(90) ? 0 : 1 + rng.Below(127),
                   dur / 1000000, dur / 1000 % 1000);
    unsigned char out[24];
    for (auto& b : out) b = static_cast<unsigned char>(rng.Next());
    AppendHex(buf, out, 8 + rng.Below(16));
    buf += '\n';
  });
  children(4, [&](Rng& rng, int64_t id, int64_t exec, int64_t t) {
    fmt::format_to(std::back_inserter(buf), "{}\t{}\t{}\t{{\"path\": \"/data/f{}.txt\", \"limit\": {}}}\t\\\\x", id,
                   exec, kTools[rng.Below(7)], rng.Below(100000), rng.Below(1000));
    unsigned char d[16];
    for (auto& b : d) b = static_cast<unsigned char>(rng.Next());
    AppendHex(buf, d, sizeof d);
    fmt::format_to(std::back_inserter(buf), "\t{}\t", static_cast<double>(rng.Below(1000000)) / 997.0);
    AppendTimestamptz(buf, t);
    buf += '\n';
  });

  {  // audit_log: a hash chain in time order
    auto ts = clock();
    Rng rng{seed * 1000003 + 77};
    db.BeginCopy("audit_log");
    std::string prev(64, '0'), input, hash;
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    const int64_t count = n[5];
    for (int64_t seq = 1; seq <= count; ++seq) {
      // Increasing, microsecond-precise instants spread over the span.
      int64_t t =
          kStart +
          static_cast<int64_t>(static_cast<double>(kSpan) * static_cast<double>(seq - 1) / static_cast<double>(count)) +
          static_cast<int64_t>(rng.Below(1000));
      std::string actor = fmt::format("agent-{:05}", 1 + rng.Below(static_cast<uint64_t>(n[0])));
      const char* action = kActions[rng.Below(10)];
      std::string payload =
          fmt::format("{{\"object\": {}, \"detail\": \"{}\", \"ip\": \"10.{}.{}.{}\"}}", rng.Below(1000000),
                      rng.Chance(50) ? "ok" : "changed", rng.Below(256), rng.Below(256), rng.Below(256));
      std::string when = AuditTimestamp(t);
      input.clear();
      fmt::format_to(std::back_inserter(input), "{}|{}|{}|{}|{}|{}", prev, seq, when, actor, action, payload);
      unsigned char digest[32];
      unsigned int len = 0;
      EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
      EVP_DigestUpdate(md, input.data(), input.size());
      EVP_DigestFinal_ex(md, digest, &len);
      hash.clear();
      AppendHex(hash, digest, 32);
      fmt::format_to(std::back_inserter(buf), "{}\t", seq);
      AppendTimestamptz(buf, t);
      fmt::format_to(std::back_inserter(buf), "\t{}\t{}\t{}\t{}\t{}\n", actor, action, payload, prev, hash);
      prev = hash;
      db.Flush(buf);
    }
    EVP_MD_CTX_free(md);
    db.EndCopy(buf);
    report("audit_log", count, ts);
  }

  auto tk = clock();
  for (const Table& t : kTables) db.Exec(t.keys);
  db.Exec("ANALYZE");
  std::fprintf(stderr, "vouch-gen: keys+analyze %.2f s; total %.2f s\n",
               std::chrono::duration<double>(clock() - tk).count(),
               std::chrono::duration<double>(clock() - t0).count());
  PQfinish(conn);
  return 0;
}
