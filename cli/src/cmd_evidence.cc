// vouch keygen and vouch verify-evidence: the keys reports are signed with
// (--sign), and the check of a signed report.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "vouch/evidence/signature.h"
#include "vouch/evidence/verify_evidence.h"

namespace vouch::cli {

Command AddKeygen(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "keygen", "Make an Ed25519 key pair for signing reports (--sign): KEY (private, mode 0600) and KEY.pub");
  cmd->add_option("--out", *out, "the private key's file; the public key goes to FILE.pub")->required();
  return {cmd, [out]() -> int {
            if (Status st = evidence::GenerateKeyPair(*out); !st.ok()) return Fail(st);
            std::cout << "private key: " << *out << " (mode 0600; keep it off the hosts whose reports it signs)\n"
                      << "public key:  " << *out << ".pub\n";
            return 0;
          }};
}

Command AddVerifyEvidence(CLI::App& app) {
  struct Options {
    std::string report, pubkey, signature, format = "text";
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("verify-evidence",
                         "Check a signed report: its signature, then what its own numbers determine (content hashes, "
                         "FINAL_VALIDATION_HASH, each table's match, the verdict); exit 1 naming what does not hold");
  cmd->add_option("REPORT", o->report, "a JSON report or manifest written with --sign")->required();
  cmd->add_option("--pubkey", o->pubkey, "the signer's public key (KEY.pub from vouch keygen)")->required();
  cmd->add_option("--signature", o->signature, "the signature file (default REPORT.sig)");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  return {cmd, [o]() -> int {
            auto r = evidence::VerifyEvidence(o->report, o->pubkey,
                                              o->signature.empty() ? o->report + ".sig" : o->signature);
            if (!r.ok()) return Fail(r.status());
            if (o->format == "json") {
              nlohmann::ordered_json checks = nlohmann::ordered_json::array();
              for (const auto& c : r->checks) {
                checks.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
              }
              const nlohmann::ordered_json j = {
                  {"report", r->report}, {"kind", r->kind}, {"passed", r->Passed()}, {"checks", checks}};
              std::cout << j.dump(2) << "\n";
            } else {
              std::cout << fmt::format("vouch verify-evidence {} ({})\nVerdict: {}\n", r->report,
                                       r->kind.empty() ? "unread" : r->kind,
                                       r->Passed() ? "✅ the evidence holds" : "❌ the evidence does not hold");
              for (const auto& c : r->checks) {
                std::cout << fmt::format("  {} {}: {}\n", c.passed ? "✅" : "❌", c.name, c.detail);
              }
            }
            return r->Passed() ? 0 : 1;
          }};
}

}  // namespace vouch::cli
