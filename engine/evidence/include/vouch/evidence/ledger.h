// The verification ledger (--ledger FILE): one JSON line per run, each
// holding the SHA-256 of the line before it, so that a line edited, removed
// or cut short breaks the chain from there on; signed with --sign's key when
// one is given. Appends are serialized by a lock (FILE.lock, flock) and
// atomic: the new ledger is written beside the old one and renamed into
// place, so a crash leaves the old ledger or the new one, never a torn line.
//
// A line: {"n": 1, "time": "...Z", "command": "drill", "scope": "...",
//   "source": {...}, "final_hash": "...", "verdict": "PASS", "tables": N,
//   "rows": N, "seconds": S, "host": "...", "vouch": "0.1.0",
//   "prev": "<64 hex>"[, "sig": "<128 hex>"]}
// "prev" of the first line is 64 zeros. "sig" is the Ed25519 signature of
// the line's bytes without it (the same line, closed after "prev").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch::evidence {

class SigningKey;  // vouch/evidence/signature.h

// An audit chain's head as a run saw it.
struct LedgerChain {
  std::string table;  // schema.name
  uint64_t length = 0;
  int64_t max_seq = 0;
  std::string head;  // the stored hash at max_seq
};

struct LedgerEntry {
  std::string command;                        // "digest", "drill", ...
  std::string scope;                          // what was verified: a database, an archive, a backup (never a password)
  std::map<std::string, std::string> source;  // its identity: version, LSN, database, ...
  std::string final_hash;                     // 64 hex, or ""
  std::string verdict;                        // "PASS", "FAIL", "INCOMPLETE" or "MEASURED" (a digest)
  uint64_t tables = 0, rows = 0;
  double seconds = 0;
  // For the canaries: each table's rows ("schema.name"), the chains' heads,
  // and the bytes read (a dump's or a backup's size).
  std::vector<std::pair<std::string, uint64_t>> table_rows;
  std::vector<LedgerChain> chains;
  uint64_t bytes = 0;
  // Anomalies the caller found against the last run (LastRunOfScope): an
  // earlier chain head no longer at its seq. Kept with the canaries.
  std::vector<std::string> anomalies;
};

// The last line of `scope` in the ledger: its number (0 when there is none,
// or no ledger yet), time and chain heads.
struct PreviousRun {
  uint64_t n = 0;
  std::string time;
  std::vector<LedgerChain> chains;
};
Result<PreviousRun> LastRunOfScope(const std::string& path, const std::string& scope);

// What a run is compared with: the last line of the same scope.
struct CanaryOptions {
  double max_row_drop = 0.05;  // a table's rows falling by more than this fraction
  double min_size = 0.5;       // the bytes read below this fraction of the last run's
};

// Appends `entry` (signed with `key` when not null), first comparing it with
// the last line of the same scope: the canaries it raises (a table gone or
// its rows dropped by more than max_row_drop, a chain's head moved back or
// its length shrunk, far fewer bytes) are returned and written into the line
// ("anomalies", "since": that line's number). The ledger is made when it
// does not exist. An existing ledger whose last line is not whole is an
// error: it is never appended to.
struct Appended {
  uint64_t n = 0;    // the new line's number
  std::string hash;  // its SHA-256 (64 hex): what the next line's prev and an anchor hold
  std::string line;  // its bytes (without the newline)
  std::vector<std::string> anomalies;
};
Result<Appended> AppendToLedger(const std::string& path, const LedgerEntry& entry, const SigningKey* key,
                                const std::string& vouch_version, const CanaryOptions& canaries = {});

struct LedgerLine {
  uint64_t n = 0;
  std::string time, command, scope, final_hash, verdict, host;
  uint64_t tables = 0, rows = 0;
  double seconds = 0;
  bool signed_ = false;
};

struct LedgerCheck {
  uint64_t lines = 0, signed_lines = 0, timestamped_lines = 0;
  // The first line that does not hold (1-based; 0 when all hold), and why.
  uint64_t first_bad = 0;
  std::string why;
  std::vector<LedgerLine> entries;  // the lines that hold, in order
  bool Passed() const { return first_bad == 0; }
};

// An anchor kept outside the host (--anchor-cmd): the ledger's line `n`
// had this SHA-256. "N:HASH".
struct LedgerAnchor {
  uint64_t n = 0;
  std::string hash;
};
Result<LedgerAnchor> ParseLedgerAnchor(const std::string& text);

// Reads the ledger and checks its chain, and with `public_key` every line's
// signature (an unsigned line then fails); with anchors, that the ledger
// still holds each anchored line unchanged (so it extends that head).
// Lines timestamped with --tsa-url keep the authority's token in
// LEDGER.tsr/N.tsr; with `tsa_ca` each token found is checked against its
// line (the others are counted as not timestamped).
Result<LedgerCheck> VerifyLedger(const std::string& path, const std::string& public_key,
                                 const std::vector<LedgerAnchor>& anchors = {}, const std::string& tsa_ca = "");

// Where line `n`'s timestamp token is kept.
std::string LedgerTimestampPath(const std::string& ledger, uint64_t n);

}  // namespace vouch::evidence
