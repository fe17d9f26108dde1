#include "vouch/evidence/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "files.h"
#include "vouch/evidence/signature.h"
#include "vouch/evidence/timestamp.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"

namespace vouch::evidence {
namespace {

using json = nlohmann::ordered_json;
constexpr size_t kSigHex = 128;

std::string Sha256Hex(std::string_view s) {
  const Sha256Digest d = Sha256Of(s);
  return HexEncode(d.data(), d.size());
}

std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  return buf;
}

std::string HostName() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

// A signed line's bytes without its signature: ..."prev":"…","sig":"<hex>"}
// → ..."prev":"…"}. False when the line has no signature.
bool Unsigned(std::string_view line, std::string* out) {
  const std::string_view tail = ",\"sig\":\"";
  if (line.size() < tail.size() + kSigHex + 2 || line.substr(line.size() - 2) != "\"}") return false;
  const size_t at = line.size() - 2 - kSigHex - tail.size();
  if (line.substr(at, tail.size()) != tail) return false;
  *out = std::string(line.substr(0, at)) + "}";
  return true;
}

// The lines of a ledger's text; false when the last one is not whole.
bool SplitLines(const std::string& text, std::vector<std::string_view>* lines) {
  size_t from = 0;
  while (from < text.size()) {
    const size_t nl = text.find('\n', from);
    if (nl == std::string::npos) {
      lines->push_back(std::string_view(text).substr(from));
      return false;
    }
    lines->push_back(std::string_view(text).substr(from, nl - from));
    from = nl + 1;
  }
  return true;
}

std::string Percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", f * 100);
  return buf;
}

// The canaries of `e` against `last`, an earlier line of the same scope.
std::vector<std::string> Canaries(const LedgerEntry& e, const json& last, const CanaryOptions& o) {
  std::vector<std::string> out;
  const uint64_t since = last.value("n", uint64_t{0});
  const std::string when = " (line " + std::to_string(since) + ", " + last.value("time", std::string()) + ")";
  std::map<std::string, uint64_t> now(e.table_rows.begin(), e.table_rows.end());
  if (last.contains("table_rows") && last["table_rows"].is_array()) {
    for (const auto& t : last["table_rows"]) {
      if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_number_unsigned()) continue;
      const std::string name = t[0].get<std::string>();
      const uint64_t before = t[1].get<uint64_t>();
      auto it = now.find(name);
      if (it == now.end()) {
        out.push_back(name + ": gone; it had " + std::to_string(before) + " rows" + when);
      } else if (before > 0 &&
                 it->second<before&& static_cast<double>(before - it->second) / static_cast<double>(before)> o
                     .max_row_drop) {
        out.push_back(name + ": rows dropped from " + std::to_string(before) + " to " + std::to_string(it->second) +
                      " (" + Percent(static_cast<double>(before - it->second) / static_cast<double>(before)) +
                      ", more than " + Percent(o.max_row_drop) + ")" + when);
      }
    }
  }
  if (last.contains("chains") && last["chains"].is_array()) {
    for (const auto& c : last["chains"]) {
      if (!c.is_object()) continue;
      const std::string table = c.value("table", std::string());
      const auto it =
          std::find_if(e.chains.begin(), e.chains.end(), [&](const LedgerChain& x) { return x.table == table; });
      if (it == e.chains.end()) {
        out.push_back("chain " + table + ": not verified in this run; it was" + when);
        continue;
      }
      const int64_t seq = c.value("max_seq", int64_t{0});
      const uint64_t length = c.value("length", uint64_t{0});
      if (it->max_seq < seq) {
        out.push_back("chain " + table + ": its head moved back from seq " + std::to_string(seq) + " to " +
                      std::to_string(it->max_seq) + ": the newest entries were deleted" + when);
      } else if (it->length < length) {
        out.push_back("chain " + table + ": shorter, " + std::to_string(it->length) + " entries against " +
                      std::to_string(length) + when);
      } else if (it->max_seq == seq && it->head != c.value("head", std::string())) {
        out.push_back("chain " + table + ": the entry at seq " + std::to_string(seq) +
                      " is no longer the head it was (its hash changed)" + when);
      }
    }
  }
  const uint64_t bytes = last.value("bytes", uint64_t{0});
  if (bytes > 0 && e.bytes > 0 && static_cast<double>(e.bytes) < o.min_size * static_cast<double>(bytes)) {
    out.push_back("size: " + std::to_string(e.bytes) + " bytes read, against " + std::to_string(bytes) +
                  " in the last run (below " + Percent(o.min_size) + ")" + when);
  }
  return out;
}

}  // namespace

Result<Appended> AppendToLedger(const std::string& path, const LedgerEntry& e, const SigningKey* key,
                                const std::string& vouch_version, const CanaryOptions& canaries) {
  const std::string lock_path = path + ".lock";
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) return IoError(lock_path + ": cannot open the ledger's lock");
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }  // closing releases the flock
  } unlock{lock};
  if (flock(lock, LOCK_EX) != 0) return IoError(lock_path + ": cannot lock the ledger");
  bool exists = false;
  const std::string text = ReadFileIfAny(path, &exists);
  std::vector<std::string_view> lines;
  if (!SplitLines(text, &lines)) {
    return Corrupt(path + ": line " + std::to_string(lines.size()) +
                   " is not whole (cut short): the ledger is not appended to; check it with 'vouch ledger verify'");
  }
  // The last line of the same scope, for the canaries.
  std::vector<std::string> anomalies;
  json since;
  for (size_t i = lines.size(); i-- > 0;) {
    json j = json::parse(lines[i], nullptr, false);
    if (j.is_object() && j.value("scope", std::string()) == e.scope) {
      since = std::move(j);
      break;
    }
  }
  anomalies = e.anomalies;
  if (since.is_object()) {
    for (auto& a : Canaries(e, since, canaries)) anomalies.push_back(std::move(a));
  }
  json table_rows = json::array(), chains = json::array();
  for (const auto& [name, rows] : e.table_rows) table_rows.push_back({name, rows});
  for (const auto& c : e.chains) {
    chains.push_back({{"table", c.table}, {"length", c.length}, {"max_seq", c.max_seq}, {"head", c.head}});
  }
  json line = {{"n", lines.size() + 1},
               {"time", UtcNow()},
               {"command", e.command},
               {"scope", e.scope},
               {"source", e.source},
               {"final_hash", e.final_hash},
               {"verdict", e.verdict},
               {"tables", e.tables},
               {"rows", e.rows},
               {"seconds", e.seconds},
               {"bytes", e.bytes},
               {"table_rows", table_rows},
               {"chains", chains},
               {"anomalies", anomalies},
               {"since", since.is_object() ? since.value("n", uint64_t{0}) : uint64_t{0}},
               {"host", HostName()},
               {"vouch", vouch_version},
               {"prev", lines.empty() ? std::string(64, '0') : Sha256Hex(lines.back())}};
  std::string bytes = line.dump();
  if (key != nullptr) {
    auto sig = key->Sign(bytes);
    if (!sig.ok()) return sig.status();
    bytes.pop_back();
    bytes += ",\"sig\":\"" + HexEncode(*sig) + "\"}";
  }
  // The whole new ledger beside the old one, then renamed into place.
  const std::string tmp = path + ".new";
  {
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError(tmp + ": cannot write the ledger");
    const std::string all = text + bytes + "\n";
    const bool ok = write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()) && fsync(fd) == 0;
    if (close(fd) != 0 || !ok) {
      unlink(tmp.c_str());
      return IoError(tmp + ": cannot write the ledger");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return IoError(path + ": cannot replace the ledger");
  }
  return Appended{lines.size() + 1, Sha256Hex(bytes), bytes, std::move(anomalies)};
}

Result<LedgerAnchor> ParseLedgerAnchor(const std::string& text) {
  const size_t colon = text.find(':');
  LedgerAnchor a;
  const std::string n = text.substr(0, colon);
  if (colon == std::string::npos || n.empty() || n.find_first_not_of("0123456789") != std::string::npos ||
      n.size() > 18 || text.size() != colon + 65 ||
      text.find_first_not_of("0123456789abcdef", colon + 1) != std::string::npos || std::stoull(n) == 0) {
    return InvalidArgument("--anchor '" + text + "': expected LINE:SHA256 (a line number, 64 lowercase hex)");
  }
  a.n = std::stoull(n);
  a.hash = text.substr(colon + 1);
  return a;
}

std::string LedgerTimestampPath(const std::string& ledger, uint64_t n) {
  return ledger + ".tsr/" + std::to_string(n) + ".tsr";
}

Result<LedgerCheck> VerifyLedger(const std::string& path, const std::string& public_key,
                                 const std::vector<LedgerAnchor>& anchors, const std::string& tsa_ca) {
  bool exists = false;
  const std::string text = ReadFileIfAny(path, &exists);
  if (!exists) return IoError(path + ": no such ledger");
  std::vector<std::string_view> lines;
  const bool whole = SplitLines(text, &lines);
  LedgerCheck c;
  c.lines = lines.size();
  auto bad = [&](uint64_t n, std::string why) {
    c.first_bad = n;
    c.why = std::move(why);
    return c;
  };
  std::string prev(64, '0');
  for (size_t i = 0; i < lines.size(); ++i) {
    const uint64_t n = i + 1;
    if (i + 1 == lines.size() && !whole) return bad(n, "cut short: the line does not end (a torn write)");
    const json j = json::parse(lines[i], nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad(n, "not a JSON object (edited or damaged)");
    try {
      if (j.at("n").get<uint64_t>() != n) {
        return bad(n, "numbered " + j.at("n").dump() + ": a line before it was removed or added");
      }
      if (j.at("prev").get<std::string>() != prev) {
        return bad(n, "its prev " + j.at("prev").get<std::string>() + " is not the SHA-256 of line " +
                          std::to_string(i) + " (" + prev + "): a line before it was changed");
      }
      std::string body;
      const bool has_sig = Unsigned(lines[i], &body);
      if (has_sig) ++c.signed_lines;
      if (!public_key.empty()) {
        if (!has_sig) return bad(n, "not signed");
        auto raw = HexDecode(lines[i].substr(lines[i].size() - 2 - kSigHex, kSigHex));
        Status st = raw ? VerifySignature(public_key, body, *raw) : Corrupt("its signature is not hex");
        if (!st.ok() && st.code() != StatusCode::kCorrupt) return st;
        if (!st.ok()) return bad(n, "signature: " + st.message());
      }
      LedgerLine l;
      l.n = n;
      l.time = j.at("time").get<std::string>();
      l.command = j.at("command").get<std::string>();
      l.scope = j.at("scope").get<std::string>();
      l.final_hash = j.at("final_hash").get<std::string>();
      l.verdict = j.at("verdict").get<std::string>();
      l.host = j.at("host").get<std::string>();
      l.tables = j.at("tables").get<uint64_t>();
      l.rows = j.at("rows").get<uint64_t>();
      l.seconds = j.at("seconds").get<double>();
      l.signed_ = has_sig;
      c.entries.push_back(std::move(l));
    } catch (const json::exception& e) {
      return bad(n, std::string("malformed: ") + e.what());
    }
    if (!tsa_ca.empty()) {
      bool token_exists = false;
      const std::string token = ReadFileIfAny(LedgerTimestampPath(path, n), &token_exists);
      if (token_exists) {
        std::string when;
        Status st = VerifyTimestamp(std::string(lines[i]), token, tsa_ca, &when);
        if (!st.ok() && st.code() != StatusCode::kCorrupt) return st;
        if (!st.ok()) return bad(n, "timestamp " + LedgerTimestampPath(path, n) + ": " + st.message());
        ++c.timestamped_lines;
      }
    }
    prev = Sha256Hex(lines[i]);
    for (const auto& a : anchors) {
      if (a.n == n && a.hash != prev) {
        return bad(n, "anchored as " + a.hash + ", its SHA-256 is now " + prev + ": the ledger was rewritten");
      }
    }
  }
  for (const auto& a : anchors) {
    if (a.n > lines.size()) {
      return bad(lines.size() + 1, "the ledger has " + std::to_string(lines.size()) + " lines, but line " +
                                       std::to_string(a.n) + " was anchored: it was cut back");
    }
  }
  return c;
}

Result<PreviousRun> LastRunOfScope(const std::string& path, const std::string& scope) {
  bool exists = false;
  const std::string text = ReadFileIfAny(path, &exists);
  PreviousRun run;
  std::vector<std::string_view> lines;
  SplitLines(text, &lines);
  for (size_t i = lines.size(); i-- > 0;) {
    const json j = json::parse(lines[i], nullptr, false);
    if (!j.is_object() || j.value("scope", std::string()) != scope) continue;
    run.n = j.value("n", uint64_t{0});
    run.time = j.value("time", std::string());
    if (j.contains("chains") && j["chains"].is_array()) {
      for (const auto& c : j["chains"]) {
        if (!c.is_object()) continue;
        run.chains.push_back({c.value("table", std::string()), c.value("length", uint64_t{0}),
                              c.value("max_seq", int64_t{0}), c.value("head", std::string())});
      }
    }
    break;
  }
  return run;
}

}  // namespace vouch::evidence
