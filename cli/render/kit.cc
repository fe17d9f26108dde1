#include "render/kit.h"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace vouch::cli {

std::string GroupThousands(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

bool ListsEveryTable(TableList list, size_t tables) {
  return list == TableList::kAll || (list == TableList::kAuto && tables <= kAutoListTables);
}

std::string LeftOutLine(uint64_t left_out, std::string_view what) {
  return GroupThousands(left_out) + " " + std::string(what) + (left_out == 1 ? "" : "s") +
         " not listed; --list all or --format json lists them";
}

const char* Mark(bool ok) { return ok ? "✅" : "❌"; }

std::string Bytes(uint64_t b) {
  char buf[32];
  if (b >= (uint64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(b) / (1 << 30));
  else if (b >= (uint64_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / (1 << 20));
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(b) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  return buf;
}

std::string Num(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string JsonDocument(const nlohmann::ordered_json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string PromLabel(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
  return out;
}

void WriteGauge(std::ostream& o, std::string_view name, std::string_view help, std::string_view labels,
                std::string_view value) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
    << name << "{" << labels << "} " << value << "\n";
}

std::string Xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t':
      case '\n':
      case '\r': out += static_cast<char>(ch); break;
      default:
        if (ch < 0x20 || ch == 0x7f)
          out += fmt::format("\\x{:02x}", ch);
        else
          out += static_cast<char>(ch);
    }
  }
  return out;
}

}  // namespace vouch::cli
