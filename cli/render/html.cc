#include "render/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "render/backup.h"
#include "render/digest.h"
#include "render/drill.h"
#include "render/restore.h"

namespace vouch::cli {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// **bold** and `code` within a line already escaped.
std::string Inline(std::string_view line) {
  std::string text = HtmlEscape(line), out;
  bool bold = false, code = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && text.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else {
      out += text[i];
    }
  }
  if (code) out += "</code>";
  if (bold) out += "</strong>";
  return out;
}

std::vector<std::string_view> Cells(std::string_view row) {
  std::vector<std::string_view> cells;
  if (!row.empty() && row.front() == '|') row.remove_prefix(1);
  if (!row.empty() && row.back() == '|') row.remove_suffix(1);
  size_t from = 0;
  while (true) {
    size_t bar = row.find('|', from);
    std::string_view cell = row.substr(from, bar == std::string_view::npos ? std::string_view::npos : bar - from);
    while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
    while (!cell.empty() && cell.back() == ' ') cell.remove_suffix(1);
    cells.push_back(cell);
    if (bar == std::string_view::npos) break;
    from = bar + 1;
  }
  return cells;
}

const char* const kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2125; margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #d0d7de; } h3 { margin-top: 1.2em; }
#verdict { font-size: 1.5em; font-weight: 700; padding: .6em 1em; border-radius: 6px; margin: 1em 0; }
#verdict.pass { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
#verdict.fail { background: #ffebe9; color: #82071e; border: 1px solid #ff8182; }
table { border-collapse: collapse; margin: .6em 0; } th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
#findings li { margin: .3em 0; } .keys { color: #57606a; font-size: 12.5px; }
svg text { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; fill: #1d2125; }
.note { color: #57606a; font-style: italic; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } svg, table, pre { break-inside: avoid; } }
)css";

std::string Page(const std::string& title, bool pass, const std::string& verdict, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"generator\" content=\"vouch {}\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n"
      "<h1>{}</h1>\n<div id=\"verdict\" class=\"{}\">{}</div>\n{}</body>\n</html>\n",
      VOUCH_VERSION, HtmlEscape(title + " — " + (pass ? "PASS" : "FAIL")), kStyle, HtmlEscape(title),
      pass ? "pass" : "fail", HtmlEscape(verdict), body);
}

// A table's bar: its rows and how long it took to read (the slower side).
struct Bar {
  std::string name;
  uint64_t rows = 0;
  double seconds = 0;
  bool ok = true;
};

std::string BarChart(std::vector<Bar> bars) {
  std::string out = "<section id=\"tables\">\n<h2>Rows and time per table</h2>\n";
  if (bars.empty()) return out + "<p class=\"note\">No tables.</p>\n</section>\n";
  const size_t all = bars.size();
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.rows > b.rows; });
  if (bars.size() > kChartTables) bars.resize(kChartTables);
  uint64_t max_rows = 1;
  double max_s = 0;
  size_t name_chars = 10;
  for (const Bar& b : bars) {
    max_rows = std::max(max_rows, b.rows);
    max_s = std::max(max_s, b.seconds);
    name_chars = std::max(name_chars, std::min<size_t>(b.name.size(), 40));
  }
  const int label_w = static_cast<int>(name_chars) * 7 + 10, bar_w = 330, gap = 130, row_h = 18;
  const int width = label_w + 2 * (bar_w + gap), height = static_cast<int>(bars.size()) * row_h + 30;
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"rows and time per table\">\n<text x=\"{}\" y=\"14\" font-weight=\"bold\">rows</text>"
      "<text x=\"{}\" y=\"14\" font-weight=\"bold\">time to read (s)</text>\n",
      width, height, width, height, label_w, label_w + bar_w + gap);
  int y = 24;
  for (const Bar& b : bars) {
    const std::string name = b.name.size() > 40 ? b.name.substr(0, 39) + "…" : b.name;
    const double rw = static_cast<double>(b.rows) / static_cast<double>(max_rows) * bar_w;
    const double sw = max_s > 0 ? b.seconds / max_s * bar_w : 0;
    out += fmt::format(
        "<g class=\"bar\" data-table=\"{}\" data-rows=\"{}\" data-seconds=\"{:.3f}\"><title>{}: {} rows, {:.3f} s"
        "</title><text x=\"0\" y=\"{}\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{}\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#8c959f\"/>"
        "<text x=\"{:.1f}\" y=\"{}\">{:.2f}</text></g>\n",
        HtmlEscape(b.name), b.rows, b.seconds, HtmlEscape(b.name), GroupThousands(b.rows), b.seconds, y + 12,
        HtmlEscape(name), label_w, y + 2, std::max(rw, 1.0), row_h - 5, b.ok ? "#2da44e" : "#cf222e",
        label_w + std::max(rw, 1.0) + 4, y + 12, GroupThousands(b.rows), label_w + bar_w + gap, y + 2,
        std::max(sw, 1.0), row_h - 5, label_w + bar_w + gap + std::max(sw, 1.0) + 4, y + 12, b.seconds);
    y += row_h;
  }
  out += "</svg>\n";
  if (all > bars.size()) {
    out += fmt::format(
        "<p class=\"note\">The {} tables with the most rows are drawn; {} more are in the report "
        "below.</p>\n",
        bars.size(), GroupThousands(all - bars.size()));
  }
  return out + "</section>\n";
}

std::string Timeline(const std::string& title, const std::vector<RunPhase>& phases) {
  std::string out = "<section id=\"timeline\">\n<h2>" + HtmlEscape(title) + "</h2>\n";
  double end = 0;
  for (const RunPhase& p : phases) end = std::max(end, p.start_s + p.seconds);
  if (phases.empty() || end <= 0) return out + "<p class=\"note\">No phases were timed.</p>\n</section>\n";
  const int label_w = 230, axis_w = 640, row_h = 20;
  const int width = label_w + axis_w + 90, height = static_cast<int>(phases.size()) * row_h + 36;
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\">\n",
      width, height, width, height, HtmlEscape(title));
  int y = 4;
  for (const RunPhase& p : phases) {
    const double x = label_w + p.start_s / end * axis_w;
    const double w = std::max(p.seconds / end * axis_w, 1.0);
    out += fmt::format(
        "<g class=\"phase\" data-phase=\"{}\" data-start=\"{:.3f}\" data-seconds=\"{:.3f}\"><title>{}: {:.3f} s from "
        "{:.3f} s</title><text x=\"0\" y=\"{}\">{}</text><rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
        "fill=\"#0969da\"/><text x=\"{:.1f}\" y=\"{}\">{}</text></g>\n",
        HtmlEscape(p.name), p.start_s, p.seconds, HtmlEscape(p.name), p.seconds, p.start_s, y + 13,
        HtmlEscape(p.name.size() > 32 ? p.name.substr(0, 31) + "…" : p.name), x, y + 3, w, row_h - 6, x + w + 4, y + 13,
        HtmlEscape(FormatDurationUs(static_cast<int64_t>(p.seconds * 1e6))));
    y += row_h;
  }
  out += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#57606a\"/><text x=\"{}\" y=\"{}\">0</text>"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n</svg>\n</section>\n",
      label_w, y + 4, label_w + axis_w, y + 4, label_w, y + 18, label_w + axis_w, y + 18,
      HtmlEscape(FormatDurationUs(static_cast<int64_t>(end * 1e6))));
  return out;
}

// One finding: what, the detail, and the keys of the rows behind it.
struct Item {
  std::string subject, detail;
  std::vector<std::string> keys;
};

std::string Findings(const std::vector<Item>& items) {
  std::string out = "<section id=\"findings\">\n<h2>Findings</h2>\n";
  if (items.empty()) return out + "<p>None.</p>\n</section>\n";
  out += "<ul>\n";
  for (const Item& i : items) {
    out += "<li><strong>" + HtmlEscape(i.subject) + "</strong>";
    if (!i.detail.empty()) out += ": " + HtmlEscape(i.detail);
    if (!i.keys.empty()) {
      out += "<div class=\"keys\">keys: ";
      for (size_t k = 0; k < i.keys.size(); ++k)
        out += (k ? ", " : "") + std::string("<code>") + HtmlEscape(i.keys[k]) + "</code>";
      out += "</div>";
    }
    out += "</li>\n";
  }
  return out + "</ul>\n</section>\n";
}

// The keys a table's comparison named: "missing (a=1)" ...
std::vector<std::string> KeysOf(const TableComparison& t) {
  std::vector<std::string> keys;
  for (const auto& k : t.missing_keys) keys.push_back("missing " + k);
  for (const auto& k : t.extra_keys) keys.push_back("extra " + k);
  for (const auto& k : t.changed_keys) keys.push_back("changed " + k);
  return keys;
}

// Bars from a comparison: the rows of the restored (actual) side, or the
// expected side's when the table is missing; the slower side's time.
std::vector<Bar> BarsOf(const CompareReport& c) {
  std::map<std::string, double> seconds;
  for (const auto* side : {&c.expected, &c.actual}) {
    for (const auto& t : side->tables) {
      double& s = seconds[t.QualifiedName()];
      s = std::max(s, t.seconds);
    }
  }
  std::vector<Bar> bars;
  bars.reserve(c.tables.size());
  for (const auto& t : c.tables) {
    const std::string name = t.QualifiedName();
    bars.push_back({name, t.status == TableStatus::kMissing ? t.expected_rows : t.actual_rows, seconds[name],
                    t.status == TableStatus::kMatch});
  }
  return bars;
}

std::vector<Item> CompareItems(const CompareReport& c) {
  std::vector<Item> items;
  for (const auto& t : c.tables) {
    if (t.status == TableStatus::kMatch) continue;
    std::string detail = fmt::format("{}: {} rows expected, {} actual", TableStatusName(t.status),
                                     GroupThousands(t.expected_rows), GroupThousands(t.actual_rows));
    if (t.rows_located) {
      detail += fmt::format("; {} missing, {} extra, {} changed", t.missing, t.extra, t.changed);
    } else if (!t.not_located_reason.empty()) {
      detail += "; rows not located: " + t.not_located_reason;
    }
    items.push_back({t.QualifiedName(), detail, KeysOf(t)});
  }
  for (const Finding& f : c.outcome().findings) {
    if (f.kind == FindingKind::kTableDiffers) continue;  // listed above, with their keys
    items.push_back({std::string(FindingKindName(f.kind)) + " " + f.subject, f.detail, {}});
  }
  return items;
}

std::vector<Item> DrillItems(const DrillReport& r, const std::string& prefix = "") {
  std::vector<Item> items;
  for (const DrillCheck& check : r.checks) {
    if (check.passed) continue;
    Item item{prefix + check.section + ": " + check.name, DrillCheckDetail(r, check), {}};
    if (check.subject == DrillSubject::kContent && check.index < r.compare.tables.size()) {
      item.keys = KeysOf(r.compare.tables[check.index]);
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string Section(const std::string& inner) { return "<section id=\"report\">\n" + inner + "</section>\n"; }
std::string Pre(const std::string& text) { return "<pre>" + HtmlEscape(text) + "</pre>\n"; }

}  // namespace

std::string MarkdownToHtml(std::string_view md) {
  std::string out;
  std::vector<std::string_view> lines;
  for (size_t from = 0; from < md.size();) {
    size_t nl = md.find('\n', from);
    if (nl == std::string_view::npos) nl = md.size();
    lines.push_back(md.substr(from, nl - from));
    from = nl + 1;
  }
  size_t i = 0;
  auto starts = [](std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; };
  while (i < lines.size()) {
    std::string_view line = lines[i];
    if (starts(line, "```")) {
      out += "<pre>";
      for (++i; i < lines.size() && !starts(lines[i], "```"); ++i) out += HtmlEscape(lines[i]) + "\n";
      out += "</pre>\n";
      ++i;
    } else if (starts(line, "#")) {
      size_t level = line.find_first_not_of('#');
      if (level == std::string_view::npos) level = line.size();
      level = std::min<size_t>(level, 6);
      std::string_view text = line.substr(std::min(line.size(), level + 1));
      out += fmt::format("<h{}>{}</h{}>\n", level, Inline(text), level);
      ++i;
    } else if (starts(line, "- ")) {
      // A list; items indented by two spaces are a list within the item above.
      out += "<ul>\n";
      bool open_item = false, nested = false;
      for (; i < lines.size() && (starts(lines[i], "- ") || (open_item && starts(lines[i], "  - "))); ++i) {
        if (starts(lines[i], "  - ")) {
          if (!nested) out += "\n<ul>\n";
          nested = true;
          out += "<li>" + Inline(lines[i].substr(4)) + "</li>\n";
          continue;
        }
        if (nested) out += "</ul>\n";
        nested = false;
        if (open_item) out += "</li>\n";
        out += "<li>" + Inline(lines[i].substr(2));
        open_item = true;
      }
      if (nested) out += "</ul>\n";
      if (open_item) out += "</li>\n";
      out += "</ul>\n";
    } else if (starts(line, "|")) {
      out += "<table>\n";
      bool header = true;
      for (; i < lines.size() && starts(lines[i], "|"); ++i) {
        auto cells = Cells(lines[i]);
        const bool rule = std::all_of(cells.begin(), cells.end(), [](std::string_view c) {
          return !c.empty() && c.find_first_not_of("-:") == std::string_view::npos;
        });
        if (rule) continue;
        out += "<tr>";
        for (auto c : cells) out += (header ? "<th>" : "<td>") + Inline(c) + (header ? "</th>" : "</td>");
        out += "</tr>\n";
        header = false;
      }
      out += "</table>\n";
    } else if (line.size() >= 2 && line.front() == '_' && line.back() == '_') {
      out += "<p class=\"note\">" + Inline(line.substr(1, line.size() - 2)) + "</p>\n";
      ++i;
    } else if (line.empty()) {
      ++i;
    } else {
      out += "<p>" + Inline(line) + "</p>\n";
      ++i;
    }
  }
  return out;
}

std::string DrillHtml(const DrillReport& r, TableList list) {
  const bool pass = r.outcome().findings.empty();
  std::string body = BarChart(BarsOf(r.compare));
  std::vector<RunPhase> phases = r.phases;
  if (r.rto_us)
    phases.push_back({"restore (RTO, --drill-start to --drill-end)", 0, static_cast<double>(*r.rto_us) / 1e6});
  body += Timeline("Timeline of the drill", phases);
  body += Findings(DrillItems(r));
  body += Section(MarkdownToHtml(DrillMarkdown(r, list)));
  return Page("vouch drill: " + r.source + " → " + r.restored, pass, DrillVerdict(r), body);
}

std::string CompareHtml(const CompareReport& c, TableList list) {
  const Outcome outcome = c.outcome();
  const bool pass = outcome.findings.empty();
  std::string body = BarChart(BarsOf(c));
  body += Timeline("Timeline of the comparison", c.phases);
  body += Findings(CompareItems(c));
  body += Section("<h2>Report</h2>\n" + Pre(CompareText(c, list)));
  const std::string verdict =
      pass ? "✅ PASS — the two sides hold the same data"
           : fmt::format("❌ FAIL — {} finding{}", outcome.findings.size(), outcome.findings.size() == 1 ? "" : "s");
  return Page("vouch compare: " + c.expected.source.location + " → " + c.actual.source.location, pass, verdict, body);
}

std::string BackupHtml(const BackupVerification& v) {
  const Outcome outcome = v.outcome();
  const bool pass = outcome.Verified();
  std::string body;
  body += Timeline("Timeline", {{"verify " + v.dir, 0, v.seconds}});
  std::vector<Item> items;
  for (const Finding& f : outcome.findings)
    items.push_back({std::string(FindingKindName(f.kind)) + " " + f.subject, f.detail, {}});
  body += Findings(items);
  body += Section("<h2>Report</h2>\n" + Pre(BackupText(v)));
  const std::string verdict =
      pass ? "✅ PASS — the base backup verified with no findings"
      : !outcome.findings.empty()
          ? fmt::format("❌ FAIL — {} finding{}", outcome.findings.size(), outcome.findings.size() == 1 ? "" : "s")
          : "❌ INCOMPLETE — not everything could be verified";
  return Page("vouch verify-backup: " + v.dir, pass, verdict, body);
}

std::string RestoreTestHtml(const RestoreTestReport& r, TableList list) {
  const bool pass = r.Passed();
  std::vector<Bar> bars;
  std::vector<Item> items;
  for (const auto& e : r.pg_restore_errors) items.push_back({"pg_restore", e, {}});
  for (const auto& e : r.globals_errors) items.push_back({"globals", e, {}});
  if (r.recovery) {
    for (const auto& f : r.recovery->failures) items.push_back({"recovery", f, {}});
  }
  if (!r.RtoMet()) {
    items.push_back(
        {"RTO", "measured " + FormatDurationUs(r.rto_us) + ", target " + FormatDurationUs(*r.rto_target_us), {}});
  }
  // The RTO's phases one after another; a database's drill within "verify".
  std::vector<RunPhase> phases;
  double at = 0, verify_at = 0;
  for (const RestorePhase& p : r.phases) {
    if (p.name == "verify") verify_at = at;
    phases.push_back({p.name, at, static_cast<double>(p.us) / 1e6});
    at += static_cast<double>(p.us) / 1e6;
  }
  for (const RestoredDatabase& db : r.databases) {
    if (!db.drill) {
      items.push_back({"database " + db.name, "not verified: the restore left no database to read", {}});
      continue;
    }
    const std::string of = r.databases.size() > 1 ? db.name + ": " : "";
    for (Bar b : BarsOf(db.drill->compare)) {
      b.name = of + b.name;
      bars.push_back(std::move(b));
    }
    for (auto& i : DrillItems(*db.drill, of)) items.push_back(std::move(i));
    for (const RunPhase& p : db.drill->phases) phases.push_back({"  " + of + p.name, verify_at + p.start_s, p.seconds});
  }
  std::string body = BarChart(std::move(bars));
  body += Timeline("RTO: the restore's phases", phases);
  body += Findings(items);
  body += Section(MarkdownToHtml(RestoreTestMarkdown(r, list)));
  const std::string verdict = pass ? (r.recovery ? "✅ PASS — recovered to the target, and the restored database "
                                                   "holds the expected data"
                                                 : "✅ PASS — restored, and the restored database holds the archive")
                                   : "❌ FAIL";
  return Page("vouch restore-test: " + r.backup, pass, verdict, body);
}

}  // namespace vouch::cli
