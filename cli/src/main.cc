// vouch command line: registers the subcommands (one file each, cmd_*.cc),
// parses the arguments and runs the chosen one. Exit codes (docs/design.md):
// 0 verified without findings, 1 findings, 2 usage/configuration error,
// 3 could not verify.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"

#if defined(VOUCH_MIMALLOC)
#include <mimalloc.h>
#endif

int main(int argc, char** argv) {
#if defined(VOUCH_MIMALLOC)
  // Freed pages go back to the system at once, not 25 ms later: a run over
  // 100,000 tables frees one phase's records (the archive's table of
  // contents, a side's table list) as the next phase allocates its own, and
  // a delayed return keeps both resident. Drill of a 100,000-table database
  // against its dump: 331 MB peak RSS with the delay, 287 MB without; the
  // dump's digest 209 MB and 182 MB, in the same CPU time.
  mi_option_set(mi_option_decommit_delay, 0);
#else
  // Blocks of 256 KB and more (chunk buffers, libpq's catalog results) are
  // mapped on their own and returned when freed. glibc's default threshold
  // rises after such a free, and the freed catalog results of 100,000 tables
  // then stay as heap holes in the peak RSS (about 40 MB of compare's).
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
#endif
  CLI::App app{"vouch: integrity verification for PostgreSQL backups and restores", "vouch"};
  app.set_version_flag("--version", std::string("vouch ") + VOUCH_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  namespace cli = vouch::cli;
  const std::vector<cli::Command> commands = {
      cli::AddDigest(app),         cli::AddCompare(app),      cli::AddVerifyArchive(app), cli::AddMerge(app),
      cli::AddDrill(app),          cli::AddVerifyBackup(app), cli::AddRestoreTest(app),   cli::AddKeygen(app),
      cli::AddVerifyEvidence(app), cli::AddLedger(app)};
  auto* help = app.add_subcommand("help", "Show this help");
  help->footer("Examples:\n  vouch help\n  vouch drill --help\n  man vouch");
  // Hidden (group ""): the manual page and the shell completions, written
  // from this very definition for the package (cli/CMakeLists.txt).
  bool man = false;
  std::string completion;
  help->add_flag("--man", man, "print the manual page vouch(1) in roff")->group("");
  help->add_option("--completion", completion, "print the completion script of SHELL")
      ->check(CLI::IsMember({"bash", "zsh"}))
      ->group("");
  app.footer(cli::ExitCodesLine() +
             "\nRun 'vouch COMMAND --help' for a command's options and examples, e.g. vouch drill --help.");
  const std::string usage = app.help();  // after parsing, help() describes the chosen subcommand

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (app.got_subcommand("help")) {
    if (man) {
      std::cout << cli::ManPage(app);
    } else if (!completion.empty()) {
      std::cout << cli::CompletionScript(app, completion);
    } else {
      std::cout << usage;
    }
    return 0;
  }
  for (const auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return 2;
}
