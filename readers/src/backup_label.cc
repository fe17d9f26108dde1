#include "vouch/readers/backup_label.h"

#include <charconv>
#include <string>

#include "vouch/readers/wal.h"

namespace vouch {
namespace {

std::optional<uint32_t> ParseTli(std::string_view v) {
  uint32_t t = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
  if (ec != std::errc() || end != v.data() + v.size() || t == 0) return std::nullopt;
  return t;
}

}  // namespace

Result<BackupLabel> ParseBackupLabel(std::string_view text) {
  BackupLabel l;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 2);
    auto bad = [&] {
      return Corrupt("backup_label line " + std::to_string(line_no) + ": \"" + std::string(line) + "\"");
    };
    if (key == "START WAL LOCATION" || key == "INCREMENTAL FROM LSN") {
      value = value.substr(0, value.find(' '));
      auto lsn = ParseLsn(std::string(value));
      if (!lsn) return bad();
      (key == "START WAL LOCATION" ? l.start_lsn : l.incremental_from_lsn) = *lsn;
    } else if (key == "START TIMELINE" || key == "INCREMENTAL FROM TLI") {
      auto tli = ParseTli(value);
      if (!tli) return bad();
      (key == "START TIMELINE" ? l.start_tli : l.incremental_from_tli) = *tli;
    }
  }
  if (l.incremental_from_lsn.has_value() != l.incremental_from_tli.has_value()) {
    return Corrupt("backup_label has one of INCREMENTAL FROM LSN and INCREMENTAL FROM TLI without the other");
  }
  return l;
}

}  // namespace vouch
