// A hot standby held at one WAL position: its replay paused
// (pg_wal_replay_pause) until this object goes, so that every database of
// the cluster can be read there, one after another (digest --at-lsn on a
// standby, and --all-databases). A primary cannot give that: a logical
// slot's exported snapshot belongs to one database.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch {

class PausedStandby {
 public:
  // Connects to the standby `conninfo` names, pauses its WAL replay unless
  // it is paused already, and waits until the pause has taken effect. An
  // error when the server is not in recovery or older than PostgreSQL 14.
  static Result<std::unique_ptr<PausedStandby>> Pause(const std::string& conninfo);
  ~PausedStandby();  // Resume(), its error dropped
  PausedStandby(const PausedStandby&) = delete;
  PausedStandby& operator=(const PausedStandby&) = delete;

  // pg_last_wal_replay_lsn() while paused: what every snapshot taken now
  // sees, and where a recovery with recovery_target_inclusive = off stops.
  const std::string& lsn() const { return lsn_; }
  // The databases that accept connections, templates left out, in byte
  // order of their names.
  const std::vector<std::string>& databases() const { return databases_; }
  // The server's state now: still paused at lsn() (not resumed by someone
  // else meanwhile), else an error saying where replay went.
  Status StillAt() const;
  // Resumes replay, when this object paused it (never a pause it found).
  Status Resume();

 private:
  struct Handle;
  PausedStandby() = default;
  std::unique_ptr<Handle> pg_;
  bool resume_ = false;
  std::string lsn_, where_;
  std::vector<std::string> databases_;
};

// `conninfo` (a URI or key=value string) naming `database` instead: a
// key=value string with every other parameter kept.
Result<std::string> ConninfoForDatabase(const std::string& conninfo, const std::string& database);

}  // namespace vouch
