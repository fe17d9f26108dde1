// libFuzzer target: verify-evidence on arbitrary bytes as the report (a
// report is untrusted input: anyone may hand one over). Whatever the bytes,
// it must return checks or an error, never crash. The seeds are a manifest,
// a drill report and a compare report vouch wrote.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "vouch/evidence/signature.h"
#include "vouch/evidence/verify_evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/vouch_fuzz_evidence.XXXXXX";
    std::string d = mkdtemp(tmpl);
    (void)vouch::evidence::GenerateKeyPair(d + "/key");
    return d;
  }();
  const std::string report = dir + "/report.json";
  std::ofstream(report, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                   static_cast<std::streamsize>(size));
  (void)vouch::evidence::VerifyEvidence(report, dir + "/key.pub", dir + "/none.sig");
  return 0;
}
