// vouch verify-evidence REPORT --pubkey PUB: the report's signature
// (REPORT.sig), then everything the report's own numbers determine:
//   - a manifest (digest, verify-archive): every table's content hash from
//     its rows and sum, the FINAL_VALIDATION_HASH from the tables, the
//     schema hash from the objects (the manifest loader's own checks);
//   - a drill report (drill --format json, and each database of a
//     restore-test report): each table's match from its rows and content
//     hashes, each side's FINAL_VALIDATION_HASH from its tables' rows and
//     sums, chain heads and large objects, the final hashes' match, each
//     table's content check, and the verdict from the checks;
//   - a compare report: each table's match from its hashes, the verdict
//     from the tables;
//   - a backup's report (verify-backup): the verdict from its findings and
//     the checks it could not make.
// A check that fails names what does not add up.
#pragma once

#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch::evidence {

struct EvidenceCheck {
  std::string name;  // "signature", "verdict", "final hash (source)", ...
  bool passed = false;
  std::string detail;
};

struct EvidenceReport {
  std::string report, kind;  // kind: "manifest", "drill report", ...
  std::vector<EvidenceCheck> checks;
  bool Passed() const;
};

// An error only when the report or the key cannot be read at all; a
// signature or a number that does not hold is a failed check.
// With `tsa_ca`, the RFC 3161 timestamp REPORT.tsr (--tsa-url) is checked
// against those CA certificates; a token without a CA to check it with, or
// a CA without a token, fails the "timestamp" check.
Result<EvidenceReport> VerifyEvidence(const std::string& report, const std::string& public_key,
                                      const std::string& signature, const std::string& tsa_ca = "");

}  // namespace vouch::evidence
