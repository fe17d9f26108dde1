#include "vouch/readers/checksum_file.h"

#include <algorithm>

namespace vouch {
namespace {

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  return out;
}

// Undoes sha256sum's escaping of a name: \\ \n \r. False on another escape.
bool Unescape(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out->push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '\\': out->push_back('\\'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      default: return false;
    }
  }
  return true;
}

bool ParseLine(std::string_view line, ChecksumEntry* e) {
  bool escaped = !line.empty() && line[0] == '\\';
  if (escaped) line.remove_prefix(1);
  std::string_view name, hex;
  size_t open = line.find(" (");
  size_t eq = line.rfind(") = ");
  if (open != std::string_view::npos && eq != std::string_view::npos && eq > open &&
      HashAlgorithmFromName(line.substr(0, open))) {  // --tag: ALGO (NAME) = HEX
    auto algo = HashAlgorithmFromName(line.substr(0, open));
    name = line.substr(open + 2, eq - open - 2);
    hex = line.substr(eq + 4);
    if (!IsHex(hex) || HashAlgorithmFromHexLength(hex.size()) != algo) return false;
    e->algorithm = *algo;
  } else {  // HEX, a space, ' ' or '*', NAME
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp + 2 > line.size() || (line[sp + 1] != ' ' && line[sp + 1] != '*'))
      return false;
    hex = line.substr(0, sp);
    name = line.substr(sp + 2);
    auto algo = IsHex(hex) ? HashAlgorithmFromHexLength(hex.size()) : std::nullopt;
    if (!algo) return false;
    e->algorithm = *algo;
  }
  if (name.empty()) return false;
  e->hex = Lower(hex);
  if (escaped) return Unescape(name, &e->name);
  e->name = std::string(name);
  return true;
}

}  // namespace

ChecksumFile ParseChecksumFile(std::string_view text) {
  ChecksumFile out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line[0] == '#') continue;
    ChecksumEntry e;
    e.line = line_no;
    if (ParseLine(line, &e)) {
      out.entries.push_back(std::move(e));
    } else {
      out.malformed_lines.push_back(line_no);
    }
  }
  return out;
}

}  // namespace vouch
