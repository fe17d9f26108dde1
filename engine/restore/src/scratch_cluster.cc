#include "scratch_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace vouch::restore {
namespace {

namespace fs = std::filesystem;

// What the signal handler does, prepared beforehand (it may only fork,
// exec, wait and exit).
struct Cleanup {
  std::vector<std::string> stop, remove;  // argv
  std::vector<char*> stop_argv, remove_argv;
  RunAs as;
  bool armed = false;
};
Cleanup cleanup;
struct sigaction previous_int, previous_term;

void RunFromHandler(char* const* argv, const RunAs& as) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    if (as.set && (setgroups(0, nullptr) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0)) _exit(126);
    execv(argv[0], argv);
    _exit(127);
  }
  if (pid > 0) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

// Stops the child RunProcess waits for (initdb, pg_restore), and waits
// until it is gone: SIGTERM, then SIGKILL after 10 s.
void StopRunningChild() {
  const pid_t child = RunningChild();
  if (child <= 0) return;
  kill(child, SIGTERM);
  for (int i = 0; i < 1000; ++i) {
    int status;
    const pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child || (r < 0 && errno != EINTR)) return;
    const timespec tick{0, 10 * 1000 * 1000};
    nanosleep(&tick, nullptr);
  }
  kill(child, SIGKILL);
  int status;
  waitpid(child, &status, 0);
}

void OnSignal(int sig) {
  StopRunningChild();
  if (cleanup.armed) {
    RunFromHandler(cleanup.stop_argv.data(), cleanup.as);
    if (!cleanup.remove.empty()) RunFromHandler(cleanup.remove_argv.data(), RunAs{});
  }
  _exit(128 + sig);
}

// Prepares what the handler runs, and installs it (once; a second call,
// with the server's binaries known, only changes what it runs). The signals
// are blocked meanwhile, so that the handler never sees a half-made command.
void Arm(const ScratchOptions& o, const std::string& data, const std::string& dir) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  cleanup.stop = {o.bin_dir + "/pg_ctl", "stop", "-D", data, "-m", "immediate", "-w"};
  cleanup.remove.clear();
  if (o.keep.empty()) cleanup.remove = {"/bin/rm", "-rf", dir};
  cleanup.stop_argv.clear();
  for (auto& a : cleanup.stop) cleanup.stop_argv.push_back(a.data());
  cleanup.stop_argv.push_back(nullptr);
  cleanup.remove_argv.clear();
  for (auto& a : cleanup.remove) cleanup.remove_argv.push_back(a.data());
  cleanup.remove_argv.push_back(nullptr);
  cleanup.as = o.as;
  if (!cleanup.armed) {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_int);
    sigaction(SIGTERM, &sa, &previous_term);
    cleanup.armed = true;
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

void Disarm() {
  if (!cleanup.armed) return;
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
  cleanup.armed = false;
}

// A port nobody listens on now, on the loopback.
Result<int> FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return IoError("socket: " + std::string(std::strerror(errno)));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(s);
    return IoError("no free loopback port: " + std::string(std::strerror(errno)));
  }
  close(s);
  return static_cast<int>(ntohs(a.sin_port));
}

std::string Quote(const std::string& s) {  // for pg_ctl -o, which a shell splits
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Tail(const std::string& text, size_t lines) {
  size_t at = text.size();
  while (lines-- > 0 && at > 0) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

}  // namespace

std::string FindServerBinDir() {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(e.path() / "bin" / "initdb")) found.push_back(e.path() / "bin");
  }
  if (found.empty()) return {};
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) < std::atoi(b.parent_path().filename().c_str());
  });
  return found.back().string();
}

Status CheckBinDir(const std::string& bin_dir) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (access((bin_dir + "/" + tool).c_str(), X_OK) != 0) {
      return InvalidArgument(bin_dir + "/" + tool + ": no such program (--pg-bin names the server's bin directory)");
    }
  }
  return Status::Ok();
}

Status ScratchCluster::SetBinDir(const std::string& bin_dir) {
  VOUCH_RETURN_IF_ERROR(CheckBinDir(bin_dir));
  options_.bin_dir = bin_dir;
  Arm(options_, data_dir(), dir_);
  return Status::Ok();
}

Result<std::unique_ptr<ScratchCluster>> ScratchCluster::CreateEmpty(const ScratchOptions& options) {
  if (!options.bin_dir.empty()) VOUCH_RETURN_IF_ERROR(CheckBinDir(options.bin_dir));
  std::unique_ptr<ScratchCluster> c(new ScratchCluster(options));
  if (!options.keep.empty()) {
    if (mkdir(options.keep.c_str(), 0700) != 0) {
      return IoError(options.keep +
                     ": cannot make it (--keep wants a directory that does not exist yet): " + std::strerror(errno));
    }
    c->dir_ = fs::absolute(options.keep).string();
  } else {
    std::string tmpl = options.parent + "/vouch-restore-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      return IoError(options.parent + ": cannot make a scratch directory: " + std::strerror(errno));
    c->dir_ = fs::absolute(tmpl).string();
  }
  if (options.as.set && chown(c->dir_.c_str(), options.as.uid, options.as.gid) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(c->dir_);
    return IoError(c->dir_ + ": cannot give it to the server's user: " + why);
  }
  Arm(options, c->data_dir(), c->dir_);
  return c;
}

Result<std::unique_ptr<ScratchCluster>> ScratchCluster::Create(const ScratchOptions& options) {
  auto c = CreateEmpty(options);
  if (!c.ok()) return c.status();
  auto r = RunProcess(
      {options.bin_dir + "/initdb", "-D", (*c)->data_dir(), "-U", options.superuser, "-A", "trust", "--no-sync"},
      options.as);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0)
    return IoError("initdb failed (exit " + std::to_string(r->exit_code) + "): " + Tail(r->err, 5));
  return c;
}

Status ScratchCluster::Start() {
  auto port = FreePort();
  if (!port.ok()) return port.status();
  port_ = *port;
  const std::string opts = "-p " + std::to_string(port_) + " -c listen_addresses=127.0.0.1 -k " + Quote(dir_);
  auto r = RunProcess({options_.bin_dir + "/pg_ctl", "start", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w",
                       "-t", "600", "-o", opts},
                      options_.as);
  if (!r.ok()) return r.status();
  started_ = true;  // a failed start may still have left a server behind
  if (r->exit_code != 0) {
    return IoError("the scratch server did not start (pg_ctl exit " + std::to_string(r->exit_code) + "); see " + dir_ +
                   "/server.log: " + Tail(r->err + r->out, 5));
  }
  auto v = RunProcess({options_.bin_dir + "/postgres", "--version"});
  if (v.ok()) version_ = v->out.substr(0, v->out.find('\n'));
  return Status::Ok();
}

std::string ScratchCluster::Conninfo(const std::string& dbname) const {
  auto value = [](const std::string& v) {  // a conninfo value: single-quoted, ' and \ escaped
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + value(options_.superuser) +
         " dbname=" + value(dbname);
}

void ScratchCluster::Stop() {
  if (!started_) return;
  (void)RunProcess({options_.bin_dir + "/pg_ctl", "stop", "-D", dir_ + "/data", "-m", "fast", "-w"}, options_.as);
  started_ = false;
}

ScratchCluster::~ScratchCluster() {
  Stop();
  if (options_.keep.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Disarm();
}

}  // namespace vouch::restore
