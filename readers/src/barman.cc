#include "vouch/readers/barman.h"

#include <charconv>

#include "vouch/readers/wal.h"

namespace vouch {
namespace {

std::string At(const std::string& path, size_t line) { return path + ": line " + std::to_string(line) + ": "; }

bool IsKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits `text` into lines, each with its number; the last line may lack
// its newline.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn&& fn) {
  size_t line = 0;
  while (!text.empty()) {
    ++line;
    const size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    VOUCH_RETURN_IF_ERROR(fn(l, line));
  }
  return Status::Ok();
}

}  // namespace

Result<BarmanBackupInfo> ParseBarmanBackupInfo(std::string_view text, const std::string& path) {
  BarmanBackupInfo info;
  std::map<std::string, size_t> line_of;
  VOUCH_RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view l, size_t line) -> Status {
    if (l.empty()) return Status::Ok();
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos || !IsKey(l.substr(0, eq))) {
      return Corrupt(At(path, line) + "not a key=value line");
    }
    std::string key(l.substr(0, eq));
    if (!info.fields.emplace(key, std::string(l.substr(eq + 1))).second) {
      return Corrupt(At(path, line) + key + " repeats line " + std::to_string(line_of[key]));
    }
    line_of[key] = line;
    return Status::Ok();
  }));
  // A field the verification needs; `none_ok`: "None" is allowed (returns "").
  auto field = [&](const char* key, bool none_ok, std::string* out) -> Status {
    auto it = info.fields.find(key);
    if (it == info.fields.end()) {
      return Corrupt(path + ": no " + std::string(key) + " field (" + std::to_string(info.fields.size()) +
                     " fields: truncated?)");
    }
    if (it->second == "None") {
      if (!none_ok) return Corrupt(At(path, line_of[key]) + key + " is None");
      out->clear();
      return Status::Ok();
    }
    *out = it->second;
    return Status::Ok();
  };
  auto bad = [&](const char* key, const char* what) {
    return Corrupt(At(path, line_of[key]) + key + " \"" + info.fields[key] + "\" is not " + what);
  };
  VOUCH_RETURN_IF_ERROR(field("status", false, &info.status));
  VOUCH_RETURN_IF_ERROR(field("error", true, &info.error));
  VOUCH_RETURN_IF_ERROR(field("mode", true, &info.mode));
  std::string s;
  VOUCH_RETURN_IF_ERROR(field("systemid", true, &s));
  if (!s.empty() && !ParseNumber(s, &info.system_id)) return bad("systemid", "a system identifier");
  VOUCH_RETURN_IF_ERROR(field("version", true, &s));
  if (!s.empty() && !ParseNumber(s, &info.version)) return bad("version", "a server version number");
  VOUCH_RETURN_IF_ERROR(field("timeline", true, &s));
  if (!s.empty() && !ParseNumber(s, &info.timeline)) return bad("timeline", "a timeline");
  VOUCH_RETURN_IF_ERROR(field("begin_wal", true, &info.begin_wal));
  VOUCH_RETURN_IF_ERROR(field("end_wal", true, &info.end_wal));
  VOUCH_RETURN_IF_ERROR(field("begin_xlog", true, &s));
  if (!s.empty()) {
    auto lsn = ParseLsn(s);
    if (!lsn) return bad("begin_xlog", "an LSN");
    info.begin_lsn = *lsn;
  }
  VOUCH_RETURN_IF_ERROR(field("end_xlog", true, &s));
  if (!s.empty()) {
    auto lsn = ParseLsn(s);
    if (!lsn) return bad("end_xlog", "an LSN");
    info.end_lsn = *lsn;
  }
  for (const char* key : {"begin_wal", "end_wal"}) {
    const std::string& name = std::string_view(key) == "begin_wal" ? info.begin_wal : info.end_wal;
    if (name.empty()) continue;
    auto w = ParseWalFileName(name);
    if (!w || w->kind != WalFileName::kSegment || !w->compression.empty()) return bad(key, "a WAL segment name");
  }
  if (info.fields.count("xlog_segment_size")) {
    VOUCH_RETURN_IF_ERROR(field("xlog_segment_size", true, &s));
    if (!s.empty() && !ParseNumber(s, &info.segment_size)) return bad("xlog_segment_size", "a segment size");
  }
  if (info.fields.count("compression")) VOUCH_RETURN_IF_ERROR(field("compression", true, &info.compression));
  if (info.fields.count("tablespaces")) {
    VOUCH_RETURN_IF_ERROR(field("tablespaces", true, &s));
    info.tablespaces = !s.empty() && s != "[]";
  }
  // A finished backup knows its whole WAL range and its cluster.
  if (info.status == "DONE") {
    for (const char* key : {"begin_wal", "end_wal", "begin_xlog", "end_xlog", "timeline", "systemid", "version"}) {
      if (info.fields[key] == "None") return Corrupt(At(path, line_of[key]) + key + " is None in a DONE backup");
    }
  }
  return info;
}

Result<std::vector<BarmanWalEntry>> ParseBarmanXlogDb(std::string_view text, const std::string& path) {
  std::vector<BarmanWalEntry> out;
  VOUCH_RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view l, size_t line) -> Status {
    if (l.empty()) return Status::Ok();
    std::string_view parts[4];
    size_t n = 0;
    while (n < 4) {
      const size_t tab = l.find('\t');
      parts[n++] = l.substr(0, tab);
      if (tab == std::string_view::npos) {
        l = {};
        break;
      }
      l.remove_prefix(tab + 1);
    }
    BarmanWalEntry e;
    e.line = line;
    if (n != 4 || !l.empty() || parts[0].empty() || !ParseNumber(parts[1], &e.size)) {
      return Corrupt(At(path, line) + "not a line of name, size, time and compression, tab-separated");
    }
    e.name = std::string(parts[0]);
    if (parts[3] != "None") e.compression = std::string(parts[3]);
    out.push_back(std::move(e));
    return Status::Ok();
  }));
  return out;
}

bool BarmanCompressionReadable(std::string_view c) {
  return c.empty() || c == "gzip" || c == "pigz" || c == "pygzip" || c == "bzip2" || c == "pybzip2" || c == "zstd" ||
         c == "lz4";
}

}  // namespace vouch
