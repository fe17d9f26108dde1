#include "command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <tuple>

#include "render/digest.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/merge.h"
#include "vouch/evidence/ledger.h"
#include "vouch/evidence/signature.h"
#include "vouch/evidence/timestamp.h"
#include "vouch/readers/live_lookup.h"
#include "vouch/readers/live_reader.h"

namespace vouch::cli {
namespace {

int ExitCodeFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kCorrupt: return 1;
    case StatusCode::kIoError:
    case StatusCode::kTruncated:
    case StatusCode::kUnsupported:
    case StatusCode::kConnection: return 3;
  }
  return 3;
}

}  // namespace

int Fail(const Status& st) {
  std::fprintf(stderr, "vouch: error: %s\n", st.message().c_str());
  return ExitCodeFor(st);
}

namespace {

bool WriteAll(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool WriteFile(const std::string& path, const Producer& produce) {
  // The text goes out in pieces of about 1 MB as `produce` hands it over.
  auto write_with = [&](int fd) {
    std::string pending;
    bool ok = true;
    produce([&](std::string_view piece) {
      pending.append(piece);
      if (pending.size() >= (1u << 20)) {
        ok = ok && WriteAll(fd, pending);
        pending.clear();
      }
    });
    return ok && WriteAll(fd, pending);
  };
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A link, device or pipe (-o /dev/stdout): written through, never
    // replaced.
    const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = write_with(fd);
    return close(fd) == 0 && ok;
  }
  // A file is written beside its target and renamed into place once whole
  // and on disk: a run that fails part-way (a full disk) leaves no truncated
  // file behind.
  const std::string tmp = path + ".vouch-tmp." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write_with(fd) && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  ok = ok && rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) unlink(tmp.c_str());
  return ok;
}

Sink StdoutSink() {
  return [](std::string_view piece) { std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size())); };
}

// The first line of a passphrase file (repo1-cipher-pass), which must not
// be readable by others.
Result<std::string> ReadPassphrase(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return InvalidArgument("--cipher-pass-file " + path + ": no such file");
  if ((st.st_mode & 077) != 0) {
    return InvalidArgument("--cipher-pass-file " + path + ": readable by others (chmod 600 it)");
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return InvalidArgument("--cipher-pass-file " + path + ": no passphrase on its first line");
  }
  if (line.back() == '\r') line.pop_back();
  return line;
}

bool WriteFile(const std::string& path, const std::string& text) {
  return WriteFile(path, [&](const Sink& sink) { sink(text); });
}

void AddListOption(CLI::App* cmd, TableList& list) {
  cmd->add_option_function<std::string>(
         "--list",
         [&list](const std::string& name) {
           list = name == "all" ? TableList::kAll : name == "problems" ? TableList::kProblems : TableList::kAuto;
         },
         "tables listed by the text report: all, problems (only those that do not match or were not verified) "
         "or auto (all up to " +
             std::to_string(kAutoListTables) + " tables, else problems; the default)")
      ->check(CLI::IsMember({"all", "problems", "auto"}))
      ->type_name("all|problems|auto");
}

CLI::Validator Counting(unsigned min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        bool digits = !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoull(s) < min) return "'" + s + "': expected a whole number >= " + std::to_string(min);
        return {};
      },
      "");
}

std::optional<size_t> ParseSize(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  unsigned long long v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
    if (v > (1ull << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  if (unit.empty() || unit == "B") return v;
  if (unit == "K" || unit == "KB" || unit == "KiB") return v << 10;
  if (unit == "M" || unit == "MB" || unit == "MiB") return v << 20;
  if (unit == "G" || unit == "GB" || unit == "GiB") return v << 30;
  return std::nullopt;
}

void Selection::Add(CLI::App* cmd) {
  cmd->add_option("-t,--table", tables, "only tables matching PATTERN (pg_dump rules; repeatable)");
  cmd->add_option("-T,--exclude-table", exclude_tables, "skip tables matching PATTERN");
  cmd->add_option("-n,--schema", schemas, "only tables in schemas matching PATTERN");
  cmd->add_option("-N,--exclude-schema", exclude_schemas, "skip schemas matching PATTERN");
}

Status Selection::Apply(DigestOptions& opt) const {
  for (const auto& p : tables) VOUCH_RETURN_IF_ERROR(opt.filter.AddTable(p));
  for (const auto& p : exclude_tables) VOUCH_RETURN_IF_ERROR(opt.filter.AddExcludeTable(p));
  for (const auto& p : schemas) VOUCH_RETURN_IF_ERROR(opt.filter.AddSchema(p));
  for (const auto& p : exclude_schemas) VOUCH_RETURN_IF_ERROR(opt.filter.AddExcludeSchema(p));
  if (!shard.empty()) {
    auto kn = ParseShard(shard);
    if (!kn.ok()) return kn.status();
    std::tie(opt.shard_index, opt.shard_count) = *kn;
  }
  return Status::Ok();
}

void LiveReadFlags::Add(CLI::App* cmd) {
  cmd->add_option("--copy-format", copy_format,
                  "how a database's tables travel: auto (binary COPY, converted to the same text on the client, for "
                  "each table whose every column type vouch converts; text for the others), text, or binary (an error "
                  "naming any table that cannot be read so)")
      ->check(CLI::IsMember({"auto", "text", "binary"}));
  cmd->add_option("--split-over", split_over,
                  "read a database table larger than SIZE (256M, 1G) in TID ranges by several connections at "
                  "once (PostgreSQL 14+): less wall time where the server has idle cores, but more of its CPU; "
                  "default 0: never");
}

Status LiveReadFlags::Apply(DigestOptions& opt) const {
  opt.copy_format = copy_format == "text"     ? CopyFormat::kText
                    : copy_format == "binary" ? CopyFormat::kBinary
                                              : CopyFormat::kAuto;
  auto bytes = split_over == "0" ? std::optional<size_t>(0) : ParseSize(split_over);
  if (!bytes) return InvalidArgument("--split-over: not a size: " + split_over + " (e.g. 256M, 1G, 0)");
  opt.split_bytes = *bytes;
  return Status::Ok();
}

void PrintRunStats(const std::vector<const DigestReport*>& sides) {
  for (const auto* side : sides) {
    if (side->jobs > 0) std::cerr << RunStats(*side);
  }
}

bool EmitReport(const std::string& format, const std::string& output, const ReportRenderers& render) {
  const std::string rendered = format == "markdown" ? render.markdown()
                               : format == "json"   ? render.json()
                               : format == "junit"  ? render.junit()
                               : format == "html"   ? render.html()
                                                    : render.text();
  if (output.empty()) {
    std::cout << rendered;
    return true;
  }
  if (!WriteFile(output, rendered)) return false;
  std::cout << (format == "text" ? rendered : render.text());
  return true;
}

void SignFlag::Add(CLI::App* cmd) {
  cmd->add_option("--sign", key,
                  "sign the JSON report -o writes with this Ed25519 private key (vouch keygen): a detached signature "
                  "in FILE.sig, which 'vouch verify-evidence' and 'openssl pkeyutl -verify -rawin' check");
  cmd->add_option("--tsa-url", tsa_url,
                  "timestamp the JSON report -o writes at this RFC 3161 authority (http://host[:port]/path): its "
                  "token in FILE.tsr, which 'vouch verify-evidence --tsa-ca' and 'openssl ts -verify' check");
}

Status SignFlag::Check(const std::string& output, bool json, bool ledger) {
  if (!tsa_url.empty()) {
    if (output.empty() && !ledger) {
      return InvalidArgument("--tsa-url timestamps the report -o writes, or the --ledger line: give -o or --ledger");
    }
    if (!output.empty() && !json) return InvalidArgument("--tsa-url timestamps a JSON report: add --format json");
  }
  if (key.empty()) return Status::Ok();
  if (output.empty() && !ledger) {
    return InvalidArgument("--sign signs the report -o writes, or the --ledger line: give -o FILE or --ledger FILE");
  }
  if (!output.empty() && !json) return InvalidArgument("--sign signs a JSON report: add --format json");
  auto k = evidence::SigningKey::Load(key);
  if (!k.ok()) return k.status();
  loaded = std::shared_ptr<const evidence::SigningKey>(std::move(k).value());
  return Status::Ok();
}

Status SignFlag::Sign(const std::string& output) const {
  if (output.empty()) return Status::Ok();
  if (loaded) VOUCH_RETURN_IF_ERROR(evidence::SignFile(*loaded, output));
  if (!tsa_url.empty()) VOUCH_RETURN_IF_ERROR(evidence::TimestampFile(output, tsa_url));
  return Status::Ok();
}

void LedgerFlag::Add(CLI::App* cmd) {
  cmd->add_option("--ledger", file,
                  "append this run to the verification ledger FILE: one JSON line, chained to the line before by "
                  "its SHA-256, signed with --sign's key ('vouch ledger verify FILE'); the run is compared with the "
                  "last one of the same scope (canaries)");
  cmd->add_option("--max-row-drop", max_row_drop,
                  "with --ledger: a table whose rows fell by more than this percentage since the last run is an "
                  "anomaly (default 5)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--anchor-cmd", anchor_cmd,
                  "with --ledger: after the append, run this shell command with the ledger's head (LINE:SHA256) on "
                  "its standard input and in VOUCH_LEDGER_HEAD, to keep it off this host (a ticket, a chat message, "
                  "an object-lock bucket); 'vouch ledger verify --anchor LINE:SHA256' proves the ledger extends it");
  cmd->add_flag("--fail-on-anomaly", fail_on_anomaly,
                "with --ledger: exit 1 when the run raised a canary (a table gone or shrunk, a chain's head moved "
                "back, a much smaller dump)");
}

Result<bool> LedgerFlag::Append(const evidence::LedgerEntry& entry, const SignFlag& sign) const {
  if (file.empty()) return false;
  evidence::CanaryOptions canaries;
  canaries.max_row_drop = max_row_drop / 100;
  auto appended = evidence::AppendToLedger(file, entry, sign.loaded.get(), VOUCH_VERSION, canaries);
  if (!appended.ok()) return appended.status();
  for (const auto& a : appended->anomalies) std::fprintf(stderr, "vouch: anomaly since the last run: %s\n", a.c_str());
  if (!sign.tsa_url.empty()) {
    auto token = evidence::TimestampBytes(appended->line, sign.tsa_url);
    if (!token.ok()) return token.status();
    std::error_code ec;
    std::filesystem::create_directories(file + ".tsr", ec);
    std::ofstream out(evidence::LedgerTimestampPath(file, appended->n), std::ios::binary | std::ios::trunc);
    out.write(token->data(), static_cast<std::streamsize>(token->size()));
    if (!out) return IoError(evidence::LedgerTimestampPath(file, appended->n) + ": cannot write the timestamp");
  }
  if (!anchor_cmd.empty()) {
    const std::string head = std::to_string(appended->n) + ":" + appended->hash;
    setenv("VOUCH_LEDGER_HEAD", head.c_str(), 1);
    setenv("VOUCH_LEDGER", file.c_str(), 1);
    // A command that does not read its input must not kill vouch with
    // SIGPIPE: its exit status says what happened.
    struct sigaction ignore {
    }, before{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &before);
    FILE* p = popen(anchor_cmd.c_str(), "w");
    if (p == nullptr) {
      sigaction(SIGPIPE, &before, nullptr);
      return IoError("--anchor-cmd: cannot run it");
    }
    std::fprintf(p, "%s\n", head.c_str());
    const int rc = pclose(p);
    sigaction(SIGPIPE, &before, nullptr);
    if (rc != 0) {
      return IoError("--anchor-cmd exited with " + std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) +
                     ": the ledger's head " + head + " was not anchored");
    }
  }
  return fail_on_anomaly && !appended->anomalies.empty();
}

evidence::LedgerEntry LedgerEntryOf(const std::string& command, const DigestReport& digest, const Outcome& outcome) {
  evidence::LedgerEntry e;
  e.command = command;
  e.scope = digest.source.kind + " " + digest.source.location;
  e.source = digest.source.properties;
  e.final_hash = digest.FinalHashHex();
  e.verdict = outcome.Verified() ? "PASS" : !outcome.findings.empty() ? "FAIL" : "INCOMPLETE";
  e.tables = digest.tables.size();
  for (const auto& t : digest.tables) e.rows += t.digest.rows();
  e.seconds = digest.seconds;
  e.bytes = digest.bytes_read;
  e.table_rows.reserve(digest.tables.size());
  for (const auto& t : digest.tables) e.table_rows.emplace_back(t.QualifiedName(), t.digest.rows());
  return e;
}

Status AddChainHeads(const std::string& ledger, const std::string& source, const SourceChecks& checks,
                     evidence::LedgerEntry& entry) {
  for (const auto& c : checks.chains) {
    if (!c.found || !c.error.empty()) continue;
    auto [schema, table] = ChainTableName(c.spec);
    entry.chains.push_back({schema + "." + table, c.result.entries, c.result.max_seq, c.result.head_hash});
  }
  if (ledger.empty() || !LooksLikeConninfo(source)) return Status::Ok();
  auto last = evidence::LastRunOfScope(ledger, entry.scope);
  if (!last.ok()) return last.status();
  for (const auto& before : last->chains) {
    const ChainCheck* now = nullptr;
    for (const auto& c : checks.chains) {
      auto [schema, table] = ChainTableName(c.spec);
      if (c.found && c.error.empty() && schema + "." + table == before.table) now = &c;
    }
    if (now == nullptr || now->result.max_seq <= before.max_seq) continue;
    auto [schema, table] = ChainTableName(now->spec);
    auto value = ReadValueAt(source, schema, table, now->spec.seq_column, before.max_seq, now->spec.hash_column);
    if (!value.ok()) return value.status();
    const std::string when = " (line " + std::to_string(last->n) + ", " + last->time + ")";
    if (!*value) {
      entry.anomalies.push_back("chain " + before.table + ": the earlier head at seq " +
                                std::to_string(before.max_seq) + " is gone" + when);
    } else if (**value != before.head) {
      entry.anomalies.push_back("chain " + before.table + ": the entry at seq " + std::to_string(before.max_seq) +
                                " no longer holds the earlier head" + when + ": the chain was rewritten");
    }
  }
  return Status::Ok();
}

void ProgressFlag::Add(CLI::App* cmd) {
  auto* on_flag = cmd->add_flag("-P,--progress", on,
                                "show progress on stderr: a status line on a terminal (the default there), plain "
                                "lines every 5 s otherwise");
  cmd->add_flag("--no-progress", off, "no progress line, even on a terminal")->excludes(on_flag);
}

std::unique_ptr<ProgressDisplay> ProgressFlag::Start(std::string command, std::vector<ProgressDisplay::Side> sides,
                                                     const RunProgress* run, bool quiet) const {
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (off || !(on || (tty && !quiet))) return nullptr;
  return std::make_unique<ProgressDisplay>(std::move(command), std::move(sides), run, tty);
}

}  // namespace vouch::cli
