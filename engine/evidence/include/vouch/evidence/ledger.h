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

struct LedgerEntry {
  std::string command;                        // "digest", "drill", ...
  std::string scope;                          // what was verified: a database, an archive, a backup (never a password)
  std::map<std::string, std::string> source;  // its identity: version, LSN, database, ...
  std::string final_hash;                     // 64 hex, or ""
  std::string verdict;                        // "PASS", "FAIL", "INCOMPLETE" or "MEASURED" (a digest)
  uint64_t tables = 0, rows = 0;
  double seconds = 0;
};

// Appends `entry` (signed with `key` when not null). The ledger is made when
// it does not exist. An existing ledger whose last line is not whole is an
// error: it is never appended to.
Status AppendToLedger(const std::string& path, const LedgerEntry& entry, const SigningKey* key,
                      const std::string& vouch_version);

struct LedgerLine {
  uint64_t n = 0;
  std::string time, command, scope, final_hash, verdict, host;
  uint64_t tables = 0, rows = 0;
  double seconds = 0;
  bool signed_ = false;
};

struct LedgerCheck {
  uint64_t lines = 0, signed_lines = 0;
  // The first line that does not hold (1-based; 0 when all hold), and why.
  uint64_t first_bad = 0;
  std::string why;
  std::vector<LedgerLine> entries;  // the lines that hold, in order
  bool Passed() const { return first_bad == 0; }
};

// Reads the ledger and checks its chain, and with `public_key` every line's
// signature (an unsigned line then fails).
Result<LedgerCheck> VerifyLedger(const std::string& path, const std::string& public_key);

}  // namespace vouch::evidence
