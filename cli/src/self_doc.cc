// vouch help --man and vouch help --completion bash|zsh: the manual page
// and the shell completions, written from the command line's own definition
// (the CLI::App every cmd_*.cc registered its options on), so that they say
// what `vouch COMMAND --help` says and cannot drift from it. The build runs
// them (cli/CMakeLists.txt) for the Debian package.
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace vouch::cli {
namespace {

struct ExitCodeDoc {
  int code;
  const char* meaning;
};
constexpr ExitCodeDoc kExitCodes[] = {
    {0, "verified, no findings"},
    {1, "findings (differences, damage, failed drill checks)"},
    {2, "usage error"},
    {3, "could not verify"},
};

// The subcommands shown in the help (CLI11 hides those of group "").
std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty() && !s->get_disabled(); });
}

// A command's options as its help lists them: no -h/--help (every command
// has it), nothing hidden.
std::vector<const CLI::Option*> Documented(const CLI::App& app, bool positional) {
  return app.get_options([&](const CLI::Option* o) {
    return o != app.get_help_ptr() && o != app.get_help_all_ptr() && !o->get_group().empty() &&
           o->get_positional() == positional && (positional || o->nonpositional());
  });
}

bool TakesValue(const CLI::Option& o) { return o.get_expected_max() != 0; }
bool Repeatable(const CLI::Option& o) { return o.get_expected_max() > 1; }

// The values an option accepts when it checks them against a set
// (CLI::IsMember writes "TEXT:{a,b}" as its type), else none.
std::vector<std::string> Choices(const CLI::Option& o) {
  const std::string type = o.get_type_name();
  const size_t open = type.find(":{"), close = type.find('}', open);
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string item;
  for (char c : type.substr(open + 2, close - open - 2)) {
    if (c == ',') {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  out.push_back(item);
  return out;
}

// What an option's value is called: its choices (text|json), else its type
// (TEXT, INT, FLOAT), as the help's.
std::string ValueName(const CLI::Option& o) {
  auto choices = Choices(o);
  if (!choices.empty()) {
    std::string out;
    for (const auto& c : choices) out += (out.empty() ? "" : "|") + c;
    return out;
  }
  std::string type = o.get_type_name();
  type = type.substr(0, type.find(':'));
  return type.empty() ? "VALUE" : type;
}

// -j, --jobs
std::vector<std::string> Names(const CLI::Option& o) {
  std::vector<std::string> out;
  for (const auto& s : o.get_snames()) out.push_back("-" + s);
  for (const auto& l : o.get_lnames()) out.push_back("--" + l);
  return out;
}

// The command's path below vouch: "digest", "ledger verify".
std::string PathOf(const CLI::App& cmd) {
  std::string path = cmd.get_name();
  for (const CLI::App* p = cmd.get_parent(); p != nullptr && p->get_parent() != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

// ---- roff --------------------------------------------------------------

// Text for a roff line: backslashes, hyphens (\-, so that options copy as
// ASCII hyphens), a leading dot or apostrophe (a request otherwise) and
// every non-ASCII character (\[uXXXX], whatever the input encoding groff
// assumes) escaped.
std::string Roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // One UTF-8 sequence; a stray byte becomes U+FFFD.
      int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
      uint32_t cp = extra == 3 ? (c & 0x07) : extra == 2 ? (c & 0x0F) : (c & 0x1F);
      for (int k = 0; k < extra; ++k) {
        if (i + 1 >= text.size() || (static_cast<unsigned char>(text[i + 1]) & 0xC0) != 0x80) {
          extra = -1;
          break;
        }
        cp = (cp << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F);
      }
      if (extra < 0) cp = 0xFFFD;
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  return out;
}

std::string Bold(std::string_view s) { return "\\fB" + Roff(s) + "\\fR"; }
std::string Italic(std::string_view s) { return "\\fI" + Roff(s) + "\\fR"; }

// The command's synopsis line: vouch drill SOURCE RESTORED [options]
std::string Synopsis(const CLI::App& cmd) {
  std::string line = Bold("vouch " + PathOf(cmd));
  const auto subs = Commands(cmd);
  if (!subs.empty()) {
    std::string names;
    for (const auto* s : subs) names += (names.empty() ? "" : "|") + s->get_name();
    line += " " + Bold(names);
  }
  for (const auto* p : Documented(cmd, true)) {
    std::string arg = Italic(p->get_name()) + (Repeatable(*p) ? "..." : "");
    line += " " + (p->get_required() ? arg : "[" + arg + "]");
  }
  if (!Documented(cmd, false).empty()) line += " [" + Italic("options") + "]";
  return line;
}

// The footer's "Examples:" heading as a paragraph, its indented lines as
// literal lines.
void RoffFooter(const std::string& footer, std::string& out) {
  size_t pos = 0;
  bool literal = false;
  while (pos < footer.size()) {
    size_t end = footer.find('\n', pos);
    if (end == std::string::npos) end = footer.size();
    std::string_view line(footer.data() + pos, end - pos);
    pos = end + 1;
    const bool indented = line.rfind("  ", 0) == 0;
    if (indented && !literal) {
      out += ".RS 4\n.nf\n";
      literal = true;
    } else if (!indented && literal) {
      out += ".fi\n.RE\n";
      literal = false;
    }
    if (indented) {
      out += Roff(line.substr(2)) + "\n";
    } else if (!line.empty()) {
      out += ".PP\n" + Roff(line) + "\n";
    }
  }
  if (literal) out += ".fi\n.RE\n";
}

void RoffCommand(const CLI::App& cmd, std::string& out) {
  out += ".SS \"" + Roff(PathOf(cmd)) + "\"\n";
  out += Synopsis(cmd) + "\n.PP\n" + Roff(cmd.get_description()) + "\n";
  for (const auto* p : Documented(cmd, true)) {
    out += ".TP\n" + Italic(p->get_name()) + "\n" + Roff(p->get_description()) + "\n";
  }
  for (const auto* o : Documented(cmd, false)) {
    std::string names;
    for (const auto& n : Names(*o)) names += (names.empty() ? "" : ", ") + Bold(n);
    if (TakesValue(*o)) names += " " + Italic(ValueName(*o));
    out += ".TP\n" + names + "\n" + Roff(o->get_description()) + "\n";
  }
  if (!cmd.get_footer().empty()) RoffFooter(cmd.get_footer(), out);
  for (const auto* sub : Commands(cmd)) RoffCommand(*sub, out);
}

// ---- shells ------------------------------------------------------------

// A word in single quotes for sh.
std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A description cut to one short line for a completion menu: up to its
// first clause, at most about 70 characters.
std::string Short(std::string_view d) {
  size_t cut = d.size();
  for (std::string_view stop : {"; ", " ("}) {
    size_t at = d.find(stop);
    if (at != std::string_view::npos && at >= 12 && at < cut) cut = at;
  }
  std::string s(d.substr(0, cut));
  if (s.size() > 72) {
    s.resize(s.rfind(' ', 69));
    s += "...";
  }
  return s;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void BashCommand(const CLI::App& cmd, const std::string& path, std::string& cases, std::string& values) {
  std::vector<std::string> subs, opts = {"-h", "--help"}, takes;
  for (const auto* s : Commands(cmd)) subs.push_back(s->get_name());
  for (const auto* o : Documented(cmd, false)) {
    for (const auto& n : Names(*o)) {
      opts.push_back(n);
      if (!TakesValue(*o)) continue;
      takes.push_back(n);
      auto choices = Choices(*o);
      if (!choices.empty()) values += "    " + Quoted(path + ":" + n) + ") words=" + Quoted(Join(choices)) + " ;;\n";
    }
  }
  cases += "    " + Quoted(path) + ") subs=" + Quoted(Join(subs)) + " opts=" + Quoted(Join(opts)) +
           " takes=" + Quoted(" " + Join(takes) + " ") + " ;;\n";
  for (const auto* s : Commands(cmd))
    BashCommand(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), cases, values);
}

void BashWalk(const CLI::App& cmd, const std::string& path, std::string& out) {
  for (const auto* s : Commands(cmd)) {
    const std::string sub = path.empty() ? s->get_name() : path + " " + s->get_name();
    out += "      " + Quoted(path + ":" + s->get_name()) + ") path=" + Quoted(sub) + " ;;\n";
    BashWalk(*s, sub, out);
  }
}

std::string Bash(const CLI::App& app) {
  std::string cases, values, walk;
  BashCommand(app, "", cases, values);
  BashWalk(app, "", walk);
  return "# bash completion for vouch: its commands, each command's options, the\n"
         "# values of options that take a fixed set, file names for the rest.\n"
         "# Written by `vouch help --completion bash`.\n"
         "_vouch() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
         "  local path='' i=1 subs opts takes words\n"
         "  # The command (and a command's own command, as in `ledger verify`).\n"
         "  while [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
         "    case \"$path:${COMP_WORDS[i]}\" in\n" +
         walk +
         "      *) break ;;\n"
         "    esac\n"
         "    i=$((i + 1))\n"
         "  done\n"
         "  case \"$path\" in\n" +
         cases +
         "    *) return 0 ;;\n"
         "  esac\n"
         "  COMPREPLY=()\n"
         "  if [[ \"$takes\" == *\" $prev \"* ]]; then\n"
         "    # An option's value: its fixed set, else file names (complete -o default).\n"
         "    case \"$path:$prev\" in\n" +
         values +
         "    *) return 0 ;;\n"
         "    esac\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n"
         "  elif [[ \"$cur\" == -* ]]; then\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
         "  elif [ -n \"$subs\" ]; then\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$subs\" -- \"$cur\")\n"
         "  fi\n"
         "  return 0\n"
         "}\n"
         "complete -o bashdefault -o default -F _vouch vouch\n";
}

std::string ZshName(const std::string& path) {
  std::string out = path.empty() ? "_vouch" : "_vouch_";
  for (char c : path) out += (c == ' ' || c == '-') ? '_' : c;
  return out;
}

// The text of an _arguments explanation ([...]): its brackets and colons
// quoted.
std::string ZshText(std::string_view d) {
  std::string out;
  for (char c : Short(d)) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// One zsh function per command: _arguments of its options and positionals,
// or a dispatch to its own commands.
void ZshCommand(const CLI::App& cmd, const std::string& path, std::string& out) {
  const auto subs = Commands(cmd);
  out += ZshName(path) + "() {\n";
  if (!subs.empty()) {
    out += "  local -a commands\n  commands=(\n";
    for (const auto* s : subs) out += "    " + Quoted(s->get_name() + ":" + Short(s->get_description())) + "\n";
    out += "  )\n";
    out +=
        "  if (( CURRENT == 2 )); then\n"
        "    if [[ $PREFIX == -* ]]; then\n"
        "      _arguments '(- *)'{-h,--help}'[print help]'" +
        std::string(cmd.get_parent() == nullptr ? " '(- *)--version[print the version]'" : "") +
        "\n"
        "    else\n"
        "      _describe -t commands " +
        Quoted(path.empty() ? "vouch command" : "vouch " + path + " command") +
        " commands\n"
        "    fi\n"
        "    return\n"
        "  fi\n"
        "  local cmd=$words[2]\n"
        "  shift words\n"
        "  (( CURRENT-- ))\n"
        "  curcontext=\"${curcontext%:*:*}:vouch-$cmd:\"\n"
        "  case $cmd in\n";
    for (const auto* s : subs) {
      const std::string sub = path.empty() ? s->get_name() : path + " " + s->get_name();
      out += "    " + s->get_name() + ") " + ZshName(sub) + " ;;\n";
    }
    out += "  esac\n}\n\n";
  } else {
    out += "  _arguments -s -S \\\n    '(- *)'{-h,--help}'[print help]'";
    for (const auto* o : Documented(cmd, false)) {
      std::string action;
      if (TakesValue(*o)) {
        auto choices = Choices(*o);
        action = ":" + ValueName(*o) + ":" + (choices.empty() ? "_files" : "(" + Join(choices) + ")");
      }
      for (const auto& n : Names(*o)) {
        out +=
            " \\\n    " + Quoted((Repeatable(*o) ? "*" : "") + n + "[" + ZshText(o->get_description()) + "]" + action);
      }
    }
    for (const auto* p : Documented(cmd, true)) {
      const std::string lead = Repeatable(*p) ? "*" : p->get_required() ? "" : ":";
      out += " \\\n    " + Quoted(lead + ":" + p->get_name() + ":_files");
    }
    out += "\n}\n\n";
  }
  for (const auto* s : subs) ZshCommand(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), out);
}

std::string Zsh(const CLI::App& app) {
  std::string out =
      "#compdef vouch\n"
      "# zsh completion for vouch: its commands, each command's options, the\n"
      "# values of options that take a fixed set, file names for the rest.\n"
      "# Written by `vouch help --completion zsh`.\n\n";
  ZshCommand(app, "", out);
  return out + "_vouch \"$@\"\n";
}

}  // namespace

std::string ExitCodesLine() {
  std::string out = "Exit codes:";
  for (size_t i = 0; i < std::size(kExitCodes); ++i) {
    out += " " + std::to_string(kExitCodes[i].code) + " " + kExitCodes[i].meaning +
           (i + 1 < std::size(kExitCodes) ? ";" : ".");
  }
  return out;
}

std::string ManPage(const CLI::App& app) {
  std::string name = app.get_description();
  if (name.rfind("vouch: ", 0) == 0) name = name.substr(7);
  std::string out =
      ".\\\" The manual page of vouch, written by `vouch help --man` from its command\n"
      ".\\\" line's own definition: the same text as `vouch COMMAND --help`.\n";
  out += ".TH VOUCH 1 \"\" \"vouch " + Roff(VOUCH_VERSION) + "\" \"User Commands\"\n";
  out += ".SH NAME\nvouch \\- " + Roff(name) + "\n";
  out += ".SH SYNOPSIS\n";
  for (const auto* cmd : Commands(app)) {
    if (Commands(*cmd).empty()) {
      out += Synopsis(*cmd) + "\n.br\n";
    } else {
      for (const auto* sub : Commands(*cmd)) out += Synopsis(*sub) + "\n.br\n";
    }
  }
  out += Bold("vouch --version") + "\n";
  out += ".SH DESCRIPTION\n" +
         Roff(
             "vouch proves that a PostgreSQL restore, or a backup not restored yet, holds exactly the data it "
             "should, and writes the evidence a DR report needs: per-table row counts and content hashes, and one "
             "FINAL_VALIDATION_HASH that is the same for the same data whatever the source, thread count or row "
             "order.") +
         "\n.PP\n" +
         Roff(
             "A SOURCE is a database URI (postgresql://...), a pg_dump archive (custom, directory or tar), a plain "
             "dump (.sql, .sql.gz, .sql.zst, .sql.lz4) or a manifest written by vouch digest -o.") +
         "\n.PP\n" + Roff("Every command takes -h, --help: its options and examples, as below.") + "\n";
  out += ".SH OPTIONS\n";
  if (const auto* h = app.get_help_ptr()) {
    std::string names;
    for (const auto& n : Names(*h)) names += (names.empty() ? "" : ", ") + Bold(n);
    out += ".TP\n" + names + "\n" + Roff(h->get_description()) + "\n";
  }
  if (const auto* v = app.get_version_ptr()) {
    out += ".TP\n" + Bold("--version") + "\n" + Roff(v->get_description()) + "\n";
  }
  out += ".SH COMMANDS\n";
  for (const auto* cmd : Commands(app)) RoffCommand(*cmd, out);
  out += ".SH \"EXIT STATUS\"\n";
  for (const auto& e : kExitCodes) out += ".TP\n" + Bold(std::to_string(e.code)) + "\n" + Roff(e.meaning) + "\n";
  out += ".SH FILES\n.TP\n" + Italic("/usr/share/doc/vouch/") + "\n" +
         Roff("README.md and the documents: the formats, the design, backup verification, benchmarks, scale-out.") +
         "\n.TP\n" + Italic("/usr/share/doc/vouch/examples/nightly/") + "\n" +
         Roff(
             "a nightly job (systemd service and timer) running verify-backup and verify-archive for Prometheus, "
             "and its alerting rules.") +
         "\n";
  out += ".SH \"SEE ALSO\"\n" + Bold("pg_verifybackup") + "(1), " + Bold("pg_dump") + "(1), " + Bold("pg_restore") +
         "(1), " + Bold("pg_basebackup") + "(1)\n";
  return out;
}

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  return shell == "zsh" ? Zsh(app) : Bash(app);
}

}  // namespace vouch::cli
