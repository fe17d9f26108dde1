// Signed evidence (issue "Evidence that holds up in an audit"): vouch keygen,
// --sign on the reports, and verify-evidence. Signatures verify with the
// openssl CLI as well; a changed byte breaks the signature; a report whose
// numbers were changed and signed again (openssl pkeyutl -sign, a second
// signer) fails the check that recomputes them, which names what does not
// hold; a key file others may read is refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

class Evidence : public testing::PreparedTest<Evidence> {
 protected:
  friend class testing::PreparedTest<Evidence>;
  static void Prepare() {
    vouch_ = testing::BinPath("VOUCH_BIN");
    dir_ = testing::MakeTempDir("vouch_evidence");
    src_ = testing::CreateDrillDatabase("vouch_evidence_src", 0.002, 11, /*tricky=*/false);
    damaged_ = testing::CreateDatabase("vouch_evidence_damaged");
    auto copy = RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + damaged_ + " && psql -X -q -d " + damaged_ +
                           " -c 'DELETE FROM audit_log WHERE seq IN (SELECT max(seq) FROM audit_log)'");
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    ASSERT_EQ(Vouch("keygen --out key").exit_code, 0);
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(src_);
    testing::DropDatabase(damaged_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) {
    return RunCommand("cd " + dir_ + " && " + vouch_ + " " + args);
  }
  static testing::CmdResult Openssl(const std::string& args) {
    return RunCommand("cd " + dir_ + " && openssl " + args);
  }
  static std::string Uri(const std::string& db) { return testing::DatabaseUri(db); }
  static nlohmann::json Load(const std::string& file) {
    return nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/" + file));
  }
  static void Save(const std::string& file, const nlohmann::json& j) { std::ofstream(dir_ + "/" + file) << j.dump(2); }
  // Signs `file` again as an independent signer would: with the openssl CLI.
  static void Resign(const std::string& file) {
    auto r = Openssl("pkeyutl -sign -inkey key -rawin -in " + file + " -out " + file + ".sig");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The verify-evidence JSON of `file`: its exit code, and each check.
  static std::pair<int, nlohmann::json> Verify(const std::string& file) {
    auto r = Vouch("verify-evidence " + file + " --pubkey key.pub --format json");
    return {r.exit_code, nlohmann::json::parse(r.out, nullptr, false)};
  }
  static std::string FailedChecks(const nlohmann::json& v) {
    std::string out;
    for (const auto& c : v["checks"]) {
      if (!c["passed"].get<bool>()) out += c["name"].get<std::string>() + ": " + c["detail"].get<std::string>() + "\n";
    }
    return out;
  }

  static std::string vouch_, dir_, src_, damaged_;
};
std::string Evidence::vouch_, Evidence::dir_, Evidence::src_, Evidence::damaged_;

TEST_F(Evidence, KeygenWritesAKeyOnlyItsOwnerReadsAndNeverOverwrites) {
  struct stat priv {
  }, pub{};
  ASSERT_EQ(stat((dir_ + "/key").c_str(), &priv), 0);
  ASSERT_EQ(stat((dir_ + "/key.pub").c_str(), &pub), 0);
  EXPECT_EQ(priv.st_mode & 0777, 0600u);
  EXPECT_EQ(pub.st_mode & 0777, 0644u);
  const std::string before = testing::ReadFileBytes(dir_ + "/key");
  auto again = Vouch("keygen --out key");
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("exists already"), std::string::npos) << again.err;
  EXPECT_EQ(testing::ReadFileBytes(dir_ + "/key"), before);
}

TEST_F(Evidence, AKeyFileOthersMayReadIsRefusedBeforeTheRun) {
  ASSERT_EQ(Vouch("keygen --out loose && chmod 644 loose").exit_code, 0);
  auto r = Vouch("digest -q " + Uri(src_) + " -o loose.json --sign loose");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("loose: permissions 0644 are too open"), std::string::npos) << r.err;
  EXPECT_EQ(RunCommand("test -e " + dir_ + "/loose.json").exit_code, 1) << "nothing was read";
  auto text = Vouch("drill -q " + Uri(src_) + " " + Uri(src_) + " -o d.txt --sign key");
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.err.find("--sign signs a JSON report: add --format json"), std::string::npos) << text.err;
}

// A manifest, a drill report (with an audit chain, whose head is in the
// final hash) and a compare report: each verifies with openssl and with
// verify-evidence, which recomputes their numbers.
TEST_F(Evidence, SignedReportsVerifyWithOpensslAndRecompute) {
  ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " -o m.json --sign key").exit_code, 0);
  auto drill =
      Vouch("drill -q " + Uri(src_) + " " + Uri(damaged_) + " --chain audit_log --format json -o d.json --sign key");
  ASSERT_EQ(drill.exit_code, 1) << drill.err;  // the damaged copy lost a row
  ASSERT_EQ(Vouch("compare -q m.json " + Uri(src_) + " -o c.json --sign key").exit_code, 0);
  for (const char* file : {"m.json", "d.json", "c.json"}) {
    SCOPED_TRACE(file);
    auto o =
        Openssl(std::string("pkeyutl -verify -pubin -inkey key.pub -rawin -in ") + file + " -sigfile " + file + ".sig");
    EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
    auto [rc, v] = Verify(file);
    EXPECT_EQ(rc, 0) << FailedChecks(v);
    EXPECT_TRUE(v["passed"].get<bool>());
  }
  auto [rc, v] = Verify("d.json");
  EXPECT_EQ(v["kind"], "drill report");
  std::vector<std::string> names;
  for (const auto& c : v["checks"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"signature", "tables", "content hashes (source)", "final hash (source)",
                                             "content hashes (restored)", "final hash (restored)", "final hash match",
                                             "verdict"}));
  // The chain counted in the final hash: the drill found it on both sides.
  const auto d = Load("d.json");
  EXPECT_TRUE(d["chains"]["source"][0]["found"].get<bool>()) << d["chains"].dump(2);
}

TEST_F(Evidence, AChangedByteBreaksTheSignature) {
  ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " -o byte.json --sign key").exit_code, 0);
  std::string bytes = testing::ReadFileBytes(dir_ + "/byte.json");
  const size_t at = bytes.find("\"rows\":");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 7] = bytes[at + 7] == '9' ? '8' : static_cast<char>(bytes[at + 7] + 1);
  std::ofstream(dir_ + "/byte.json", std::ios::binary | std::ios::trunc) << bytes;
  auto [rc, v] = Verify("byte.json");
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(v["checks"][0]["name"], "signature");
  EXPECT_FALSE(v["checks"][0]["passed"].get<bool>());
  EXPECT_EQ(v["checks"][0]["detail"], "the signature does not match the report's bytes and this public key");
  // The changed row count no longer gives the content hash: named too.
  EXPECT_NE(FailedChecks(v).find("content_hash does not match rows and sum"), std::string::npos) << FailedChecks(v);
  auto o = Openssl("pkeyutl -verify -pubin -inkey key.pub -rawin -in byte.json -sigfile byte.json.sig");
  EXPECT_NE(o.exit_code, 0);
}

// Signed again after the change, so that only the recomputation can tell.
TEST_F(Evidence, AChangedVerdictSwappedTablesOrAChangedFinalHashAreNamed) {
  ASSERT_EQ(Vouch("drill -q " + Uri(src_) + " " + Uri(damaged_) + " --format json -o fail.json --sign key").exit_code,
            1);
  const auto report = Load("fail.json");
  ASSERT_FALSE(report["passed"].get<bool>());
  {  // FAIL turned into PASS
    auto j = report;
    j["passed"] = true;
    Save("verdict.json", j);
    Resign("verdict.json");
    auto [rc, v] = Verify("verdict.json");
    EXPECT_EQ(rc, 1);
    EXPECT_NE(FailedChecks(v).find("verdict: the verdict is PASS, but"), std::string::npos) << FailedChecks(v);
  }
  {  // the restored side's hashes of two tables swapped
    auto j = report;
    auto& t = j["tables"];
    ASSERT_GE(t.size(), 2u);
    std::swap(t[0]["actual_content_hash"], t[1]["actual_content_hash"]);
    Save("swapped.json", j);
    Resign("swapped.json");
    auto [rc, v] = Verify("swapped.json");
    EXPECT_EQ(rc, 1);
    EXPECT_NE(FailedChecks(v).find("content hashes (restored): public.agents: its content hash"), std::string::npos)
        << FailedChecks(v);
  }
  {  // the restored final hash set to the source's
    auto j = report;
    j["final_validation_hash"]["restored"] = j["final_validation_hash"]["source"];
    Save("final.json", j);
    Resign("final.json");
    auto [rc, v] = Verify("final.json");
    EXPECT_EQ(rc, 1);
    EXPECT_NE(FailedChecks(v).find("final hash (restored): the report says"), std::string::npos) << FailedChecks(v);
  }
  // The unchanged report holds.
  auto [rc, v] = Verify("fail.json");
  EXPECT_EQ(rc, 0) << FailedChecks(v);
}

TEST_F(Evidence, AMissingSignatureOrAnotherKeyFails) {
  ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " -o unsigned.json").exit_code, 0);
  auto [rc, v] = Verify("unsigned.json");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(FailedChecks(v).find("signature: unsigned.json.sig: no signature"), std::string::npos) << FailedChecks(v);
  ASSERT_EQ(Vouch("keygen --out other").exit_code, 0);
  ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " -o other.json --sign other").exit_code, 0);
  auto [rc2, v2] = Verify("other.json");
  EXPECT_EQ(rc2, 1);
  EXPECT_NE(FailedChecks(v2).find("signature: the signature does not match"), std::string::npos) << FailedChecks(v2);
}

// The ledger: a line per run, chained by SHA-256 and signed.
TEST_F(Evidence, TheLedgerChainsSignedLinesAndShowsTheHistory) {
  ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " --ledger chain.ledger --sign key -o l1.json").exit_code, 0);
  ASSERT_EQ(Vouch("drill -q " + Uri(src_) + " " + Uri(damaged_) +
                  " --ledger chain.ledger --sign key --format json -o l2.json")
                .exit_code,
            1);
  ASSERT_EQ(Vouch("compare -q l1.json " + Uri(src_) + " --ledger chain.ledger --sign key -o l3.json").exit_code, 0);
  auto ok = Vouch("ledger verify chain.ledger --pubkey key.pub");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("3 lines, the chain holds, every line signed with key.pub"), std::string::npos) << ok.out;
  auto show = Vouch("ledger show chain.ledger");
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find(" digest         MEASURED "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(" drill          FAIL "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(" compare        PASS "), std::string::npos) << show.out;
  // The source's identity: the cluster's system identifier, as pg_control
  // has it.
  auto sysid = RunCommand("cd " + dir_ + " && sed -n 1p chain.ledger | jq -r .source.system_identifier");
  EXPECT_EQ(sysid.out, testing::PsqlScalar(src_, "SELECT system_identifier FROM pg_control_system()") + "\n");
  // Each line holds the SHA-256 of the one before, as sha256sum computes it.
  auto second_prev = RunCommand("cd " + dir_ + " && sed -n 2p chain.ledger | jq -r .prev");
  auto first_hash = RunCommand("cd " + dir_ + " && sed -n 1p chain.ledger | tr -d '\\n' | sha256sum | cut -c1-64");
  EXPECT_EQ(second_prev.out, first_hash.out);
  EXPECT_EQ(second_prev.out.size(), 65u);
  // Another key's public half does not verify it.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && test -e third || " + vouch_ + " keygen --out third").exit_code, 0);
  auto other = Vouch("ledger verify chain.ledger --pubkey third.pub");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.out.find("line 1 does not hold: signature:"), std::string::npos) << other.out;
}

// A line edited, removed or cut short is named; a torn ledger is never
// appended to.
TEST_F(Evidence, AnEditedRemovedOrTornLineIsNamed) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Vouch("digest -q " + Uri(src_) + " --ledger base.ledger --sign key -o base.json").exit_code, 0);
  }
  ASSERT_EQ(Vouch("ledger verify base.ledger --pubkey key.pub").exit_code, 0);
  // Line 1's verdict edited: its signature fails; without the key, line 2's
  // link to it does.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && sed '1s/MEASURED/PASSED!!/' base.ledger > edited.ledger").exit_code, 0);
  auto edited = Vouch("ledger verify edited.ledger --pubkey key.pub");
  EXPECT_EQ(edited.exit_code, 1);
  EXPECT_NE(edited.out.find("line 1 does not hold: signature: the signature does not match"), std::string::npos)
      << edited.out;
  auto unkeyed = Vouch("ledger verify edited.ledger");
  EXPECT_EQ(unkeyed.exit_code, 1);
  EXPECT_NE(unkeyed.out.find("line 2 does not hold: its prev"), std::string::npos) << unkeyed.out;
  // Line 2 removed.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && sed '2d' base.ledger > removed.ledger").exit_code, 0);
  auto removed = Vouch("ledger verify removed.ledger");
  EXPECT_EQ(removed.exit_code, 1);
  EXPECT_NE(removed.out.find("line 2 does not hold: numbered 3: a line before it was removed or added"),
            std::string::npos)
      << removed.out;
  // Cut short in the middle of its last line, as a crash mid-write would.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && head -c -40 base.ledger > torn.ledger").exit_code, 0);
  auto torn = Vouch("ledger verify torn.ledger");
  EXPECT_EQ(torn.exit_code, 1);
  EXPECT_NE(torn.out.find("line 3 does not hold: cut short"), std::string::npos) << torn.out;
  const std::string before = testing::ReadFileBytes(dir_ + "/torn.ledger");
  auto append = Vouch("digest -q " + Uri(src_) + " --ledger torn.ledger");
  EXPECT_EQ(append.exit_code, 1) << append.err;
  EXPECT_NE(append.err.find("line 3 is not whole"), std::string::npos) << append.err;
  EXPECT_EQ(testing::ReadFileBytes(dir_ + "/torn.ledger"), before);
}

// Runs that append at the same time are serialized: every line lands, and
// the chain holds.
TEST_F(Evidence, ConcurrentAppendsAllLandInOneChain) {
  std::string cmd = "cd " + dir_ + " && for i in 1 2 3 4 5 6; do " + vouch_ + " digest -q " + Uri(src_) +
                    " --ledger busy.ledger --sign key -o busy$i.json >/dev/null & done; wait";
  ASSERT_EQ(RunCommand(cmd).exit_code, 0);
  auto v = Vouch("ledger verify busy.ledger --pubkey key.pub");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("6 lines, the chain holds"), std::string::npos) << v.out;
}

// Canaries: each run is compared with the last one of the same scope.
// Deleting the newest 100 audit rows leaves a valid, shorter chain: only the
// ledger can tell, and it does; so does a 10% row drop. A clean second run
// raises nothing.
TEST_F(Evidence, CanariesFlagTheNewestRowsDeletedAndARowDrop) {
  const std::string db = testing::CreateDatabase("vouch_evidence_canary");
  ASSERT_EQ(RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + db).exit_code, 0);
  const std::string drill =
      "drill -q " + Uri(db) + " " + Uri(db) + " --chain audit_log --ledger canary.ledger --sign key --fail-on-anomaly";
  auto first = Vouch(drill);
  EXPECT_EQ(first.exit_code, 0) << first.out.substr(0, 3000) << first.err;
  auto clean = Vouch(drill);
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.err.find("anomaly"), std::string::npos) << clean.err;
  const std::string max_seq = testing::PsqlScalar(db, "SELECT max(seq) FROM audit_log");
  const int64_t tool_calls = std::stoll(testing::PsqlScalar(db, "SELECT count(*) FROM tool_calls"));
  ASSERT_EQ(RunCommand("psql -X -q -d " + db +
                       " -c 'DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 100 FROM audit_log)' -c "
                       "'DELETE FROM tool_calls WHERE id % 10 = 0'")
                .exit_code,
            0);
  const int64_t left = std::stoll(testing::PsqlScalar(db, "SELECT count(*) FROM tool_calls"));
  auto after = Vouch(drill);
  EXPECT_EQ(after.exit_code, 1) << after.err;
  EXPECT_NE(after.err.find("vouch: anomaly since the last run: chain public.audit_log: its head moved back from seq " +
                           max_seq + " to " + std::to_string(std::stoll(max_seq) - 100) +
                           ": the newest entries were deleted (line 2,"),
            std::string::npos)
      << after.err;
  EXPECT_NE(after.err.find("public.tool_calls: rows dropped from " + std::to_string(tool_calls) + " to " +
                           std::to_string(left)),
            std::string::npos)
      << after.err;
  // The drill itself passed (the copy equals itself, its chain is valid):
  // the exit code comes from the canaries.
  auto without = Vouch("drill -q " + Uri(db) + " " + Uri(db) + " --chain audit_log --ledger canary.ledger --sign key");
  EXPECT_EQ(without.exit_code, 0) << without.err;
  auto v = Vouch("ledger verify canary.ledger --pubkey key.pub");
  EXPECT_EQ(v.exit_code, 0) << v.out;
  auto third = RunCommand("cd " + dir_ + " && sed -n 3p canary.ledger | jq -c '[.since, (.anomalies | length)]'");
  EXPECT_EQ(third.out, "[2,2]\n");
  testing::DropDatabase(db);
}

// An anchor outside the host: --anchor-cmd hands the ledger's head to a
// command; ledger verify --anchor proves the ledger still extends it, and
// catches a ledger rewritten (even re-signed with the right key) or cut back.
TEST_F(Evidence, AnAnchoredHeadCatchesARewrittenOrCutBackLedger) {
  const std::string run = "digest -q " + Uri(src_) + " --ledger anch.ledger --sign key --anchor-cmd 'cat > anchor.txt'";
  ASSERT_EQ(Vouch(run).exit_code, 0);
  ASSERT_EQ(Vouch(run).exit_code, 0);
  const std::string anchor = testing::ReadFileBytes(dir_ + "/anchor.txt");
  auto line2 = RunCommand("cd " + dir_ + " && sed -n 2p anch.ledger | tr -d '\\n' | sha256sum | cut -c1-64");
  EXPECT_EQ(anchor, "2:" + line2.out) << "the head handed out is line 2's SHA-256";
  const std::string head = anchor.substr(0, anchor.size() - 1);
  ASSERT_EQ(Vouch(run).exit_code, 0);  // the ledger grows past the anchor
  auto extends = Vouch("ledger verify anch.ledger --pubkey key.pub --anchor " + head);
  EXPECT_EQ(extends.exit_code, 0) << extends.out << extends.err;
  EXPECT_NE(extends.out.find("it extends 1 anchor(s)"), std::string::npos) << extends.out;
  // Rewritten from scratch with the same key: a valid, signed chain, but
  // not the anchored one.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && mv anch.ledger anch.orig").exit_code, 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Vouch(run).exit_code, 0);
  EXPECT_EQ(Vouch("ledger verify anch.ledger --pubkey key.pub").exit_code, 0);
  auto rewritten = Vouch("ledger verify anch.ledger --pubkey key.pub --anchor " + head);
  EXPECT_EQ(rewritten.exit_code, 1);
  EXPECT_NE(rewritten.out.find("line 2 does not hold: anchored as"), std::string::npos) << rewritten.out;
  // Cut back to its first line.
  ASSERT_EQ(RunCommand("cd " + dir_ + " && head -n 1 anch.orig > anch.cut").exit_code, 0);
  auto cut = Vouch("ledger verify anch.cut --anchor " + head);
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_NE(cut.out.find("the ledger has 1 lines, but line 2 was anchored: it was cut back"), std::string::npos)
      << cut.out;
  // A command that cannot take the anchor fails the run.
  auto failing = Vouch("digest -q " + Uri(src_) + " --ledger anch.ledger --anchor-cmd 'exit 7'");
  EXPECT_EQ(failing.exit_code, 3) << failing.err;
  EXPECT_NE(failing.err.find("--anchor-cmd exited with 7"), std::string::npos) << failing.err;
}

// A dump at the same path that shrank to a fraction of the last one: its
// tables gone and its size are canaries.
TEST_F(Evidence, ADumpMuchSmallerThanTheLastOneIsFlagged) {
  ASSERT_EQ(RunCommand("cd " + dir_ + " && pg_dump -Fc -d " + src_ + " -f nightly.custom").exit_code, 0);
  const std::string run = "verify-archive -q nightly.custom --ledger dumps.ledger";
  auto first = Vouch(run);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.err.find("anomaly"), std::string::npos) << first.err;
  // The dump's identity: the SHA-256 of its table of contents.
  auto toc = RunCommand("cd " + dir_ + " && jq -r .source.toc_sha256 dumps.ledger");
  EXPECT_EQ(toc.out.size(), 65u) << toc.out;
  ASSERT_EQ(RunCommand("cd " + dir_ + " && pg_dump -Fc -t agents -d " + src_ + " -f nightly.custom").exit_code, 0);
  auto second = Vouch(run + " --fail-on-anomaly");
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("anomaly since the last run: public.audit_log: gone; it had "), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("anomaly since the last run: size: "), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("in the last run (below 50.0%) (line 1,"), std::string::npos) << second.err;
}

// Chain anchoring: once the chain has grown past the head an earlier run
// recorded, the source must still hold that head at its seq.
TEST_F(Evidence, AnEarlierChainHeadRewrittenIsCaughtOnceTheChainGrew) {
  const std::string db = testing::CreateDatabase("vouch_evidence_anchor");
  ASSERT_EQ(RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + db).exit_code, 0);
  const std::string drill = "drill -q " + Uri(db) + " " + Uri(db) + " --chain audit_log --ledger heads.ledger";
  ASSERT_EQ(Vouch(drill).exit_code, 0);
  // digest --chain records the head as well (a ledger of its own).
  const std::string digest = "digest " + Uri(db) + " -q --chain audit_log --ledger dheads.ledger";
  auto first = Vouch(digest);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("Audit chain public.audit_log: ✅ verified"), std::string::npos) << first.out;
  const std::string head = testing::PsqlScalar(db, "SELECT max(seq) FROM audit_log");
  // The chain grows by ten entries and the earlier head's hash is replaced.
  ASSERT_EQ(RunCommand("psql -X -q -d " + db + " -c 'UPDATE audit_log SET hash = md5(hash) WHERE seq = " + head +
                       "' -c 'INSERT INTO audit_log SELECT seq + 10, ts, actor, action, payload, prev_hash, hash FROM "
                       "audit_log WHERE seq > " +
                       head + " - 10'")
                .exit_code,
            0);
  auto after_digest = Vouch(digest);
  EXPECT_EQ(after_digest.exit_code, 1);
  EXPECT_NE(after_digest.err.find("chain public.audit_log: the entry at seq " + head +
                                  " no longer holds the earlier head (line 1,"),
            std::string::npos)
      << after_digest.err;
  EXPECT_NE(after_digest.out.find("Audit chain public.audit_log: ❌ broken"), std::string::npos) << after_digest.out;
  auto after = Vouch(drill);
  EXPECT_NE(after.err.find("anomaly since the last run: chain public.audit_log: the entry at seq " + head +
                           " no longer holds the earlier head (line 1,"),
            std::string::npos)
      << after.err;
  // Grown without touching the earlier head: nothing is said of it.
  const std::string db2 = testing::CreateDatabase("vouch_evidence_anchor_ok");
  ASSERT_EQ(RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + db2).exit_code, 0);
  const std::string drill2 = "drill -q " + Uri(db2) + " " + Uri(db2) + " --chain audit_log --ledger heads.ledger";
  ASSERT_EQ(Vouch(drill2).exit_code, 0);
  ASSERT_EQ(RunCommand("psql -X -q -d " + db2 +
                       " -c 'INSERT INTO audit_log SELECT seq + 10, ts, actor, action, payload, prev_hash, hash FROM "
                       "audit_log WHERE seq > " +
                       head + " - 10'")
                .exit_code,
            0);
  auto grown = Vouch(drill2);
  EXPECT_EQ(grown.err.find("earlier head"), std::string::npos) << grown.err;
  testing::DropDatabase(db);
  testing::DropDatabase(db2);
}

// A local RFC 3161 authority: a CA and a time-stamping certificate made
// with the openssl CLI, and a loopback HTTP responder that answers each
// query with `openssl ts -reply`.
class LocalTsa {
 public:
  explicit LocalTsa(std::string dir) : dir_(std::move(dir)) {
    std::ofstream(dir_ + "/ts.cnf")
        << "[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = vouch test TSA\n"
           "[ tsa_ext ]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n"
           "extendedKeyUsage = critical, timeStamping\n[ ca_ext ]\nbasicConstraints = "
           "critical, CA:TRUE\nkeyUsage = critical, keyCertSign\n[ tsa ]\ndefault_tsa = "
           "tsa1\n[ tsa1 ]\nserial = ./serial\nsigner_digest = sha256\ndefault_policy = "
           "1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n";
    auto made = RunCommand(
        "cd " + dir_ +
        " && echo 01 > serial && openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.crt -subj '/CN=vouch "
        "test CA' -days 2 -extensions ca_ext -config ts.cnf && openssl req -newkey rsa:2048 -nodes -keyout tsa.key "
        "-out tsa.csr -config ts.cnf && openssl x509 -req -in tsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out "
        "tsa.crt -days 2 -extfile ts.cnf -extensions tsa_ext && openssl req -x509 -newkey ed25519 -nodes -keyout "
        "other.key -out other-ca.crt -subj '/CN=another CA' -days 2 -extensions ca_ext -config ts.cnf");
    EXPECT_EQ(made.exit_code, 0) << made.err;
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LocalTsa() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/tsa"; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string in;
      char buf[4096];
      size_t want = std::string::npos;
      while (in.size() < want) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        const size_t end = in.find("\r\n\r\n");
        const size_t cl = in.find("Content-Length: ");
        if (end != std::string::npos && cl != std::string::npos) want = end + 4 + std::stoul(in.substr(cl + 16));
      }
      std::ofstream(dir_ + "/q.tsq", std::ios::binary) << in.substr(in.find("\r\n\r\n") + 4);
      RunCommand("cd " + dir_ +
                 " && openssl ts -reply -queryfile q.tsq -signer tsa.crt -inkey tsa.key -config ts.cnf -out r.tsr");
      const std::string body = testing::ReadFileBytes(dir_ + "/r.tsr");
      const std::string out = "HTTP/1.0 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
      send(c, out.data(), out.size(), MSG_NOSIGNAL);
      close(c);
    }
  }
  std::string dir_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A report timestamped by a local authority verifies, with vouch and with
// openssl ts -verify; changed after the timestamp (and signed again), or
// checked against another CA, it fails.
TEST_F(Evidence, ATimestampedReportVerifiesAndAChangeAfterItIsCaught) {
  ASSERT_EQ(RunCommand("mkdir -p " + dir_ + "/tsa").exit_code, 0);
  LocalTsa tsa(dir_ + "/tsa");
  auto r = Vouch("digest -q " + Uri(src_) + " -o ts.json --sign key --tsa-url " + tsa.Url());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto o = Openssl("ts -verify -data ts.json -in ts.json.tsr -CAfile tsa/ca.crt");
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  auto [rc, v] = [&] {
    auto x = Vouch("verify-evidence ts.json --pubkey key.pub --tsa-ca tsa/ca.crt --format json");
    return std::make_pair(x.exit_code, nlohmann::json::parse(x.out, nullptr, false));
  }();
  EXPECT_EQ(rc, 0) << FailedChecks(v);
  ASSERT_GE(v["checks"].size(), 2u);
  EXPECT_EQ(v["checks"][1]["name"], "timestamp");
  EXPECT_TRUE(v["checks"][1]["passed"].get<bool>()) << v["checks"][1].dump();
  // Another CA does not vouch for this authority.
  auto other = Vouch("verify-evidence ts.json --pubkey key.pub --tsa-ca tsa/other-ca.crt");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.out.find("❌ timestamp: the timestamp does not hold"), std::string::npos) << other.out;
  // Changed after the timestamp, and signed again: the signature holds, the
  // timestamp does not.
  auto j = Load("ts.json");
  j["created_at"] = "2020-01-01T00:00:00Z";
  Save("ts.json", j);
  Resign("ts.json");
  auto changed = Vouch("verify-evidence ts.json --pubkey key.pub --tsa-ca tsa/ca.crt");
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.out.find("✅ signature"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("❌ timestamp: the timestamp does not hold for these bytes"), std::string::npos)
      << changed.out;
  // Ledger lines are timestamped too, each token over its line.
  for (int i = 0; i < 2; ++i) {
    auto run = Vouch("digest -q " + Uri(src_) + " --ledger tl.ledger --sign key --tsa-url " + tsa.Url());
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  auto lines = Vouch("ledger verify tl.ledger --pubkey key.pub --tsa-ca tsa/ca.crt");
  EXPECT_EQ(lines.exit_code, 0) << lines.out << lines.err;
  EXPECT_NE(lines.out.find("2 timestamped line(s) hold"), std::string::npos) << lines.out;
  ASSERT_EQ(RunCommand("cd " + dir_ + "/tl.ledger.tsr && mv 1.tsr x && mv 2.tsr 1.tsr && mv x 2.tsr").exit_code, 0);
  auto swapped = Vouch("ledger verify tl.ledger --tsa-ca tsa/ca.crt");
  EXPECT_EQ(swapped.exit_code, 1);
  EXPECT_NE(swapped.out.find("line 1 does not hold: timestamp"), std::string::npos) << swapped.out;
  // No authority listening: the run says so (exit 3).
  auto down = Vouch("digest -q " + Uri(src_) + " -o down.json --tsa-url http://127.0.0.1:1/tsa");
  EXPECT_EQ(down.exit_code, 3) << down.err;
  EXPECT_NE(down.err.find("--tsa-url http://127.0.0.1:1/tsa: cannot connect"), std::string::npos) << down.err;
}

// A backup's report: signed, its verdict checked against its findings; and
// its verification in the ledger, with the cluster's identity.
TEST_F(Evidence, ABackupReportIsSignedCheckedAndLedgered) {
  auto b = RunCommand("pg_basebackup -c fast -D " + dir_ + "/bb -Fp -X fetch");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto r = Vouch("verify-backup bb -q --format json -o bb.json --sign key --ledger backups.ledger");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [rc, v] = Verify("bb.json");
  EXPECT_EQ(rc, 0) << FailedChecks(v);
  EXPECT_EQ(v["kind"], "backup report");
  auto j = Load("bb.json");
  j["findings"].push_back({{"kind", "checksum"}, {"subject", "base/1/1259"}, {"detail", "edited in"}});
  Save("bb-edited.json", j);
  Resign("bb-edited.json");
  auto [rc2, v2] = Verify("bb-edited.json");
  EXPECT_EQ(rc2, 1);
  EXPECT_NE(FailedChecks(v2).find("verdict: verified is claimed, but the report lists findings"), std::string::npos)
      << FailedChecks(v2);
  auto line = RunCommand("cd " + dir_ +
                         " && jq -r '.command + \" \" + .verdict + \" \" + .source.system_identifier' "
                         "backups.ledger");
  EXPECT_EQ(line.out.rfind("verify-backup PASS ", 0), 0u) << line.out;
  EXPECT_GT(line.out.size(), 25u) << "the system identifier is recorded";
}

}  // namespace
}  // namespace vouch
