// The pieces every subcommand of the vouch command line shares. Each
// subcommand lives in its own file (cmd_<name>.cc): it registers its options
// on the application and returns how to run it; main() only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "render/kit.h"
#include "render/progress.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/drill_checks.h"
#include "vouch/evidence/ledger.h"
#include "vouch/evidence/signature.h"
#include "vouch/status.h"

namespace vouch::cli {

struct Command {
  CLI::App* app = nullptr;   // the subcommand; parsed() when chosen
  std::function<int()> run;  // runs it once its options are parsed: the exit code
};

Command AddDigest(CLI::App& app);
Command AddCompare(CLI::App& app);
Command AddVerifyArchive(CLI::App& app);
Command AddMerge(CLI::App& app);
Command AddDrill(CLI::App& app);
Command AddVerifyBackup(CLI::App& app);
Command AddRestoreTest(CLI::App& app);
Command AddKeygen(CLI::App& app);
Command AddVerifyEvidence(CLI::App& app);
Command AddLedger(CLI::App& app);

// The generated documentation (self_doc.cc), written from `app` once every
// command is registered: the manual page vouch(1) in roff (vouch help --man),
// and the completion script of `shell`, bash or zsh (vouch help --completion).
std::string ManPage(const CLI::App& app);
std::string CompletionScript(const CLI::App& app, const std::string& shell);
// "Exit codes: 0 verified, no findings; 1 findings ...": the help's footer and
// the manual's EXIT STATUS.
std::string ExitCodesLine();

// Prints "vouch: error: MESSAGE" and returns the exit code of an error that
// stopped the run (docs/design.md "Exit codes"): 2 for a usage or
// configuration error, 3 when vouch could not verify, 1 for a corrupt input
// found before any report.
int Fail(const Status& st);

// Writes `text` to `path`, replacing it whole or not at all (a temporary
// file beside it, renamed into place); false when it cannot.
bool WriteFile(const std::string& path, const std::string& text);

// The first line of a passphrase file (an encrypted pgBackRest repository's
// repo1-cipher-pass), which must not be readable by others.
Result<std::string> ReadPassphrase(const std::string& path);
// The same, with the text handed over in pieces by `produce` (a manifest of
// 100,000 tables is never one string).
using Sink = std::function<void(std::string_view)>;
using Producer = std::function<void(const Sink&)>;
bool WriteFile(const std::string& path, const Producer& produce);
// A sink that writes to standard output.
Sink StdoutSink();

// A report in one of five formats (drill, restore-test): `format`'s
// rendering goes to `output` when one is named, and stdout then gets the
// text; else to stdout. False when the file cannot be written.
struct ReportRenderers {
  std::function<std::string()> text, markdown, json, junit, html;
};
bool EmitReport(const std::string& format, const std::string& output, const ReportRenderers& render);

// --list all|problems|auto on `cmd`, into `list`: how much of the per-table
// list its text and Markdown reports show (TableList, render/kit.h). JSON
// always holds every table.
void AddListOption(CLI::App* cmd, TableList& list);

// A CLI11 check: a whole number >= `min` (CLI11 would wrap "-1" around for
// an unsigned option).
CLI::Validator Counting(unsigned min);

// "4M", "64K", "1048576" → bytes.
std::optional<size_t> ParseSize(const std::string& s);

// The table selection options of pg_dump (-t, -T, -n, -N) and --shard.
struct Selection {
  std::vector<std::string> tables, exclude_tables, schemas, exclude_schemas;
  std::string shard;  // "k/N"; empty = all rows
  void Add(CLI::App* cmd);
  // Puts the selection into `opt`; a bad pattern or shard is a usage error.
  Status Apply(DigestOptions& opt) const;
};

// How databases are read: --copy-format and --split-over.
struct LiveReadFlags {
  std::string copy_format = "auto";
  std::string split_over = "0";
  void Add(CLI::App* cmd);
  Status Apply(DigestOptions& opt) const;
};

// --sign KEY: a detached Ed25519 signature of the JSON report -o writes,
// beside it as FILE.sig (vouch/evidence/signature.h).
struct SignFlag {
  std::string key, tsa_url;
  void Add(CLI::App* cmd);
  // Before the run, so that a long read is not wasted: -o names the file
  // (or `ledger`: only the ledger's line is signed), its format is JSON, and
  // the key loads (its file private to its owner).
  Status Check(const std::string& output, bool json, bool ledger = false);
  // After -o was written: FILE.sig.
  Status Sign(const std::string& output) const;
  std::shared_ptr<const evidence::SigningKey> loaded;  // once Check loaded it
};

// --ledger FILE: one line per run in the verification ledger
// (vouch/evidence/ledger.h), signed with --sign's key when one is given.
struct LedgerFlag {
  std::string file, anchor_cmd;
  double max_row_drop = 5;  // percent
  bool fail_on_anomaly = false;
  void Add(CLI::App* cmd);
  // After the run (its report written and signed): appends the line, and
  // prints the canaries it raised against the last run of the same scope
  // on stderr. True when the run must then fail (--fail-on-anomaly).
  Result<bool> Append(const evidence::LedgerEntry& entry, const SignFlag& sign) const;
};

// The chains' heads a run verified (`checks`, its source side) into the
// ledger entry; and chain anchoring: each head the last run of the entry's
// scope recorded must still be in the source's chain, at the same seq with
// the same stored hash, once the chain has grown past it (one query per
// chain on a database `source`; the same seq is a canary of the ledger's
// own). A head gone or rewritten is an anomaly of the entry.
Status AddChainHeads(const std::string& ledger, const std::string& source, const SourceChecks& checks,
                     evidence::LedgerEntry& entry);

// A ledger entry's facts from a digest: its source (location and
// properties), final hash, tables, rows and time.
evidence::LedgerEntry LedgerEntryOf(const std::string& command, const DigestReport& digest, const Outcome& outcome);

// -P/--progress and --no-progress: the status line (render/progress.h) shows
// when stderr is a terminal, unless --no-progress or -q; --progress shows it
// anyway, as plain lines every few seconds when stderr is not a terminal.
struct ProgressFlag {
  bool on = false, off = false;
  void Add(CLI::App* cmd);
  // The display of `sides` while it lives, or null when none is wanted.
  std::unique_ptr<ProgressDisplay> Start(std::string command, std::vector<ProgressDisplay::Side> sides,
                                         const RunProgress* run = nullptr, bool quiet = false) const;
};

// The run statistics of each side that was read (not of a manifest), on
// stderr.
void PrintRunStats(const std::vector<const DigestReport*>& sides);

}  // namespace vouch::cli
