// A throwaway PostgreSQL cluster for a restore test: initdb into a fresh
// directory, the server on a free loopback port (a Unix socket in the same
// directory), stopped and removed when the object goes, and also when the
// process gets SIGINT or SIGTERM (the handler stops the server and removes
// the directory before it exits).
#pragma once

#include <memory>
#include <string>

#include "process.h"
#include "vouch/status.h"

namespace vouch::restore {

struct ScratchOptions {
  std::string bin_dir;                 // initdb, pg_ctl, postgres
  std::string parent;                  // where the scratch directory is made
  std::string keep;                    // non-empty: the directory is this one, and stays (the server is stopped)
  RunAs as;                            // who runs initdb and the server
  std::string superuser = "postgres";  // the bootstrap superuser initdb makes
};

class ScratchCluster {
 public:
  // Makes the directory and runs initdb (the options' superuser, trust
  // authentication on the loopback only).
  static Result<std::unique_ptr<ScratchCluster>> Create(const ScratchOptions& options);
  // Makes the directory only (cleaned up as above); the caller puts a data
  // directory at data_dir() (a copied base backup), owned by options.as.
  // options.bin_dir may be empty until SetBinDir.
  static Result<std::unique_ptr<ScratchCluster>> CreateEmpty(const ScratchOptions& options);
  ~ScratchCluster();
  ScratchCluster(const ScratchCluster&) = delete;
  ScratchCluster& operator=(const ScratchCluster&) = delete;

  // The server binaries to run it with (once a copied backup's version is
  // known): initdb, pg_ctl and postgres must be there.
  Status SetBinDir(const std::string& bin_dir);
  // Starts the server and waits until it accepts connections.
  Status Start();
  // A libpq conninfo for `dbname` as the superuser.
  std::string Conninfo(const std::string& dbname) const;
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string server_log() const { return dir_ + "/server.log"; }
  // The server's "PostgreSQL 15.18 ..." version line (Start first).
  const std::string& server_version() const { return version_; }

 private:
  explicit ScratchCluster(ScratchOptions options) : options_(std::move(options)) {}
  void Stop();

  ScratchOptions options_;
  std::string dir_;
  int port_ = 0;
  bool started_ = false;
  std::string version_;
};

// The newest server's bin directory installed the Debian way
// (/usr/lib/postgresql/N/bin), or pg_config --bindir's; empty when none.
std::string FindServerBinDir();

}  // namespace vouch::restore
