// Runs a program to its end with its output captured, optionally as another
// user (a server's initdb and pg_ctl refuse to run as root). The child's pid
// is published while it runs, so that a signal handler can stop it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch::restore {

// Who a child runs as: the caller (set == false), or uid/gid.
struct RunAs {
  bool set = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user `name`, from the password database; an error names it.
Result<RunAs> LookUpUser(const std::string& name);

struct ProcessResult {
  int exit_code = 0;  // 128 + signal when killed by one
  std::string out, err;
};

// argv[0] is a path. An error only when the program cannot be started.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const RunAs& as = {});

// The pid of the child RunProcess is waiting for, or 0.
pid_t RunningChild();

// Microseconds since `t` (steady clock): a phase's duration.
inline int64_t Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace vouch::restore
