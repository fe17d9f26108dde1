#include "pg_test_env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tricky_schema.h"

namespace vouch::testing {
namespace {

[[noreturn]] void Fatal(const std::string& msg) {
  ADD_FAILURE() << msg;
  throw std::runtime_error(msg);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace

const PgEnv& TestPg() {
  static const PgEnv env = [] {
    const char* path = std::getenv("VOUCH_TEST_ENV");
    if (path == nullptr) Fatal("VOUCH_TEST_ENV is not set: run the tests through ctest (fixture 'pg')");
    std::ifstream in(path);
    if (!in) Fatal(std::string("no test cluster: cannot read ") + path + " (did pg_cluster_start fail?)");
    PgEnv e;
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) e.vars[line.substr(0, eq)] = line.substr(eq + 1);
    }
    e.bindir = e.vars["PG_BINDIR"];
    if (e.vars["PGPORT"].empty() || e.bindir.empty()) Fatal(std::string(path) + " lacks PGPORT or PG_BINDIR");
    e.major = std::atoi(e.vars["PG_MAJOR"].c_str());
    if (e.major == 0) Fatal(std::string(path) + " lacks PG_MAJOR");
    return e;
  }();
  return env;
}

CmdResult RunCommand(const std::string& shell_cmd) {
  const PgEnv& env = TestPg();
  static std::atomic<int> counter{0};
  std::string base = ::testing::TempDir() + "vouch_cmd_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  std::string out_path = base + ".out", err_path = base + ".err";
  std::string prefix;
  for (const auto& [k, v] : env.vars) prefix += "export " + k + "=" + ShellQuote(v) + "; ";
  prefix += "export PATH=" + ShellQuote(env.bindir) + ":\"$PATH\"; ";
  std::string full =
      "/bin/bash -c " + ShellQuote(prefix + shell_cmd) + " > " + out_path + " 2> " + err_path + " < /dev/null";
  int status = std::system(full.c_str());
  CmdResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

std::string BinPath(const char* env_var) {
  const char* p = std::getenv(env_var);
  if (p == nullptr || *p == '\0') Fatal(std::string(env_var) + " is not set: run the tests through ctest");
  return p;
}

std::string PsqlScalar(const std::string& db, const std::string& sql) {
  CmdResult r = RunCommand("psql -X -At -v ON_ERROR_STOP=1 -d " + ShellQuote(db) + " -c " + ShellQuote(sql));
  if (r.exit_code != 0) Fatal("psql failed (" + sql + "): " + r.err);
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r.out;
}

std::string CreateDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  CmdResult r = RunCommand("dropdb --if-exists " + name + " && createdb " + name);
  if (r.exit_code != 0) Fatal("createdb " + name + " failed: " + r.err);
  return name;
}

std::string CreateDrillDatabase(const std::string& prefix, double scale, int seed, bool tricky) {
  std::string db = CreateDatabase(prefix);
  CmdResult gen = RunCommand(BinPath("VOUCH_GEN_BIN") + " --scale " + std::to_string(scale) + " --seed " +
                             std::to_string(seed) + " --dbname " + db);
  if (gen.exit_code != 0) Fatal("vouch-gen failed: " + gen.err);
  if (tricky) {
    CmdResult load = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " + ShellQuote(kTrickySchema));
    if (load.exit_code != 0) Fatal("loading the tricky schema failed: " + load.err);
  }
  return db;
}

std::string ReadFileBytes(const std::string& path) { return Slurp(path); }

PgRestoreListing PgRestoreList(const std::string& archive) {
  CmdResult r = RunCommand("pg_restore -l " + ShellQuote(archive));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  PgRestoreListing l;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(";     ", 0) == 0) {
      size_t colon = line.find(": ");
      if (colon != std::string::npos) l.header[line.substr(6, colon - 6)] = line.substr(colon + 2);
    } else if (!line.empty() && line[0] != ';') {
      l.entries.push_back(line);
    }
  }
  return l;
}

std::string DatabaseUri(const std::string& db) {
  const auto& v = TestPg().vars;
  return "postgresql://" + v.at("PGUSER") + "@127.0.0.1:" + v.at("PGPORT") + "/" + db;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string dir = ::testing::TempDir() + prefix + "_" + std::to_string(getpid());
  if (RunCommand("rm -rf " + dir + " && mkdir -p " + dir).exit_code != 0) Fatal("cannot create " + dir);
  return dir;
}

void DropDatabase(const std::string& name) {
  if (!name.empty()) RunCommand("dropdb --if-exists --force " + name);
}

std::string OwnCluster::Start(const std::string& dir) {
  pgcluster_ = BinPath("VOUCH_SOURCE_DIR") + "/scripts/pgcluster.sh";
  dir_ = dir + "/src";
  CmdResult r = RunCommand(pgcluster_ + " start " + dir_ + " " + std::to_string(TestPg().major));
  return r.exit_code == 0 ? "" : r.out + r.err;
}

void OwnCluster::Stop() {
  if (!dir_.empty()) RunCommand(pgcluster_ + " stop " + dir_);
}

std::string OwnCluster::Env(const std::string& key) const {
  CmdResult r = RunCommand("sed -n 's/^" + key + "=//p' " + dir_ + "/env");
  return r.out.substr(0, r.out.find('\n'));
}

std::string OwnCluster::In() const { return "eval \"$(" + pgcluster_ + " env " + dir_ + ")\" && "; }

std::string OwnCluster::Sql(const std::string& db, const std::string& sql) const {
  CmdResult r = RunCommand(In() + "psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " + ShellQuote(sql));
  return r.exit_code == 0 ? "" : r.err;
}

std::string OwnCluster::Scalar(const std::string& sql) const {
  CmdResult r = RunCommand(In() + "psql -X -At -d postgres -c " + ShellQuote(sql));
  return r.out.substr(0, r.out.find('\n'));
}

std::string OwnCluster::Uri(const std::string& db) const {
  return "postgresql://vouch@127.0.0.1:" + Env("PGPORT") + "/" + db;
}

bool FlipMiddleByte(const std::string& path) {
  return RunCommand("printf '\\377' | dd of=" + ShellQuote(path) + " bs=1 seek=$(($(stat -c %s " + ShellQuote(path) +
                    ") / 2)) conv=notrunc status=none")
             .exit_code == 0;
}

}  // namespace vouch::testing
