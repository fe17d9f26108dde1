// vouch keygen and vouch verify-evidence: the keys reports are signed with
// (--sign), and the check of a signed report.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "vouch/evidence/ledger.h"
#include "vouch/evidence/signature.h"
#include "vouch/evidence/verify_evidence.h"

namespace vouch::cli {

Command AddKeygen(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "keygen", "Make an Ed25519 key pair for signing reports (--sign): KEY (private, mode 0600) and KEY.pub");
  cmd->footer(
      "Examples:\n"
      "  vouch keygen --out /etc/vouch/signing.key\n"
      "  vouch verify-archive nightly.dump -o app-manifest.json --sign /etc/vouch/signing.key");
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
    std::string report, pubkey, signature, tsa_ca, format = "text";
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("verify-evidence",
                         "Check a signed report: its signature, then what its own numbers determine (content hashes, "
                         "FINAL_VALIDATION_HASH, each table's match, the verdict); exit 1 naming what does not hold");
  cmd->footer(
      "Examples:\n"
      "  vouch verify-evidence drill.json --pubkey signing.key.pub\n"
      "  vouch verify-evidence app-manifest.json --pubkey signing.key.pub --tsa-ca tsa-ca.pem --format json");
  cmd->add_option("REPORT", o->report, "a JSON report or manifest written with --sign")->required();
  cmd->add_option("--pubkey", o->pubkey, "the signer's public key (KEY.pub from vouch keygen)")->required();
  cmd->add_option("--signature", o->signature, "the signature file (default REPORT.sig)");
  cmd->add_option("--tsa-ca", o->tsa_ca,
                  "the time-stamping authority's CA certificates (PEM): check REPORT.tsr (--tsa-url) against them");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  return {cmd, [o]() -> int {
            auto r = evidence::VerifyEvidence(o->report, o->pubkey,
                                              o->signature.empty() ? o->report + ".sig" : o->signature, o->tsa_ca);
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

Command AddLedger(CLI::App& app) {
  struct Options {
    std::string file, pubkey, scope, tsa_ca;
    std::vector<std::string> anchors;
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("ledger", "The verification ledger (--ledger FILE): verify its chain, show its history");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  vouch ledger verify /var/lib/vouch/ledger --pubkey signing.key.pub\n"
      "  vouch ledger show /var/lib/vouch/ledger --scope app");
  auto* verify = cmd->add_subcommand(
      "verify",
      "Check the ledger's chain (each line holds the SHA-256 of the one before) and, with --pubkey, every "
      "line's signature; exit 1 naming the first line that does not hold");
  verify->footer(
      "Examples:\n"
      "  vouch ledger verify /var/lib/vouch/ledger --pubkey signing.key.pub\n"
      "  vouch ledger verify /var/lib/vouch/ledger --anchor \"41:$HEAD_SHA256\" --tsa-ca tsa-ca.pem");
  verify->add_option("FILE", o->file, "the ledger")->required();
  verify->add_option("--pubkey", o->pubkey, "the signer's public key: every line must be signed with it");
  verify->add_option("--anchor", o->anchors,
                     "LINE:SHA256, a head --anchor-cmd handed out: the ledger must still hold that line unchanged "
                     "(it extends that head); repeatable");
  verify->add_option("--tsa-ca", o->tsa_ca,
                     "check the lines' RFC 3161 timestamps (FILE.tsr/N.tsr, from --tsa-url) against these CA "
                     "certificates");
  auto* show = cmd->add_subcommand("show", "The ledger's runs as a table: dates, commands, verdicts, rows, durations");
  show->footer(
      "Examples:\n"
      "  vouch ledger show /var/lib/vouch/ledger\n"
      "  vouch ledger show /var/lib/vouch/ledger --scope 'drill of postgresql://vouch@db1/app'");
  show->add_option("FILE", o->file, "the ledger")->required();
  show->add_option("--scope", o->scope, "only the runs whose scope contains this text");
  return {cmd, [o, verify]() -> int {
            std::vector<evidence::LedgerAnchor> anchors;
            for (const auto& a : o->anchors) {
              auto parsed = evidence::ParseLedgerAnchor(a);
              if (!parsed.ok()) return Fail(parsed.status());
              anchors.push_back(*parsed);
            }
            auto c = evidence::VerifyLedger(o->file, verify->parsed() ? o->pubkey : std::string(), anchors,
                                            verify->parsed() ? o->tsa_ca : std::string());
            if (!c.ok()) return Fail(c.status());
            if (verify->parsed()) {
              if (!c->Passed()) {
                std::cout << fmt::format("❌ {}: line {} does not hold: {}\n", o->file, c->first_bad, c->why);
                return 1;
              }
              std::cout << fmt::format(
                  "✅ {}: {} lines, the chain holds{}{}\n", o->file, c->lines,
                  (anchors.empty() ? "" : fmt::format(", it extends {} anchor(s)", anchors.size())) +
                      (o->tsa_ca.empty() ? "" : fmt::format(", {} timestamped line(s) hold", c->timestamped_lines)),
                  o->pubkey.empty() ? fmt::format(" ({} signed, not checked: no --pubkey)", c->signed_lines)
                                    : ", every line signed with " + o->pubkey);
              return 0;
            }
            std::cout << fmt::format("{:>5}  {:<27} {:<14} {:<10} {:>8} {:>12} {:>10}  {}\n", "#", "time (UTC)",
                                     "command", "verdict", "tables", "rows", "seconds", "scope");
            for (const auto& l : c->entries) {
              if (!o->scope.empty() && l.scope.find(o->scope) == std::string::npos) continue;
              std::cout << fmt::format("{:>5}  {:<27} {:<14} {:<10} {:>8} {:>12} {:>10.2f}  {}\n", l.n, l.time,
                                       l.command, l.verdict, l.tables, l.rows, l.seconds, l.scope);
            }
            if (!c->Passed()) {
              std::cout << fmt::format("❌ line {} does not hold: {} (the lines from it on are not shown)\n",
                                       c->first_bad, c->why);
              return 1;
            }
            return 0;
          }};
}

}  // namespace vouch::cli
