#include "vouch/chain/chain_spec.h"

#include <algorithm>
#include <set>

#include "digest_text.h"

namespace vouch {
namespace {

struct AlgorithmName {
  ChainAlgorithm a;
  const char* name;
  size_t size;
};
constexpr AlgorithmName kAlgorithms[] = {{ChainAlgorithm::kSha256, "sha256", 32},
                                         {ChainAlgorithm::kSha512, "sha512", 64},
                                         {ChainAlgorithm::kXxh3_128, "xxh3-128", 16}};
struct EncodingName {
  ChainEncoding e;
  const char* name;
};
constexpr EncodingName kEncodings[] = {
    {ChainEncoding::kHex, "hex"}, {ChainEncoding::kBase64, "base64"}, {ChainEncoding::kBytea, "bytea"}};
struct RenderingName {
  TimestampRendering t;
  const char* name;
};
constexpr RenderingName kRenderings[] = {{TimestampRendering::kAsStored, "as-stored"},
                                         {TimestampRendering::kIsoUtcMicros, "iso-micros"},
                                         {TimestampRendering::kIsoUtcMillis, "iso-millis"},
                                         {TimestampRendering::kIsoUtcSeconds, "iso-seconds"}};

// Text for messages: control characters and backslashes escaped.
std::string Printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// --- the --chain flag -------------------------------------------------------

// A character of the flag after quoting and escapes are resolved; `literal`
// ones never act as syntax (':' ',' '=' '|' '.' or a space to trim).
struct FlagChar {
  char c;
  bool literal;
};
using FlagText = std::vector<FlagChar>;

std::string Str(const FlagText& t) {
  std::string s;
  for (const FlagChar& f : t) s.push_back(f.c);
  return s;
}

FlagText Trim(FlagText t) {
  auto is_space = [](const FlagChar& f) { return !f.literal && f.c == ' '; };
  while (!t.empty() && is_space(t.back())) t.pop_back();
  auto first = std::find_if_not(t.begin(), t.end(), is_space);
  t.erase(t.begin(), first);
  return t;
}

// Splits at every syntactic `sep`.
std::vector<FlagText> Split(const FlagText& t, char sep) {
  std::vector<FlagText> parts(1);
  for (const FlagChar& f : t) {
    if (!f.literal && f.c == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(f);
    }
  }
  return parts;
}

// Splits at the first syntactic `sep`; false if there is none.
bool SplitFirst(const FlagText& t, char sep, FlagText* head, FlagText* tail) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t[i].literal && t[i].c == sep) {
      head->assign(t.begin(), t.begin() + static_cast<ptrdiff_t>(i));
      tail->assign(t.begin() + static_cast<ptrdiff_t>(i) + 1, t.end());
      return true;
    }
  }
  *head = t;
  tail->clear();
  return false;
}

Result<FlagText> Lex(std::string_view text) {
  FlagText out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return InvalidArgument("unterminated quote at offset " + std::to_string(i));
      for (size_t k = i + 1; k < close; ++k) out.push_back({text[k], true});
      i = close;
    } else if (c == '\\') {
      if (i + 1 == text.size()) return InvalidArgument("backslash at the end");
      char e = text[++i];
      out.push_back({e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e, true});
    } else {
      out.push_back({c, false});
    }
  }
  return out;
}

Result<std::string> ParseTable(const FlagText& t) {
  std::vector<FlagText> parts = Split(t, '.');
  if (parts.size() > 2)
    return InvalidArgument("table \"" + Str(t) + "\" has more than one '.' (quote a dot inside a name)");
  std::vector<std::string> names;
  for (const FlagText& p : parts) {
    std::string name = Str(Trim(p));
    if (name.empty()) return InvalidArgument("table \"" + Str(t) + "\" has an empty schema or name");
    names.push_back(std::move(name));
  }
  return names.size() == 1 ? "public." + names[0] : names[0] + "." + names[1];
}

// The canonical (TOML) name of a flag key, or "" if unknown.
std::string CanonicalKey(const std::string& key) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"seq", "seq_column"},  {"prev", "prev_column"}, {"hash", "hash_column"}, {"fields", "fields"},
      {"sep", "separator"},   {"algo", "algorithm"},   {"enc", "encoding"},     {"ts", "timestamps"},
      {"genesis", "genesis"}, {"null", "null_as"}};
  for (const auto& [flag, canonical] : kKeys) {
    if (key == flag || key == canonical) return canonical;
  }
  return "";
}

Status SetOption(ChainSpec& spec, const std::string& key, const FlagText& value) {
  std::string v = Str(value);
  if (key == "seq_column") {
    spec.seq_column = v;
  } else if (key == "prev_column") {
    spec.prev_column = v;
  } else if (key == "hash_column") {
    spec.hash_column = v;
  } else if (key == "fields") {
    spec.fields.clear();
    for (const FlagText& f : Split(value, '|')) spec.fields.push_back(Str(Trim(f)));
  } else if (key == "separator") {
    spec.separator = v;
  } else if (key == "algorithm") {
    auto a = ChainAlgorithmFromName(v);
    if (!a) return InvalidArgument("algo \"" + Printable(v) + "\" is not sha256, sha512 or xxh3-128");
    spec.algorithm = *a;
  } else if (key == "encoding") {
    auto e = ChainEncodingFromName(v);
    if (!e) return InvalidArgument("enc \"" + Printable(v) + "\" is not hex, base64 or bytea");
    spec.encoding = *e;
  } else if (key == "timestamps") {
    auto t = TimestampRenderingFromName(v);
    if (!t)
      return InvalidArgument("ts \"" + Printable(v) + "\" is not as-stored, iso-micros, iso-millis or iso-seconds");
    spec.timestamps = *t;
  } else if (key == "genesis") {
    spec.genesis = v;
  } else if (key == "null_as") {
    spec.null_as = v;
  }
  return Status::Ok();
}

Result<ChainSpec> ParseFlag(std::string_view text) {
  Result<FlagText> lexed = Lex(text);
  if (!lexed.ok()) return lexed.status();
  FlagText table, options;
  bool has_options = SplitFirst(*lexed, ':', &table, &options);
  ChainSpec spec;
  Result<std::string> name = ParseTable(table);
  if (!name.ok()) return name.status();
  spec.table = std::move(*name);
  std::set<std::string> seen;
  if (has_options && !Trim(options).empty()) {
    for (const FlagText& option : Split(options, ',')) {
      FlagText key_text, value;
      if (!SplitFirst(option, '=', &key_text, &value)) {
        std::string o = Str(Trim(option));
        return InvalidArgument(o.empty() ? "empty option (two commas?)" : "option \"" + Printable(o) + "\" has no '='");
      }
      std::string key = Str(Trim(key_text));
      std::string canonical = CanonicalKey(key);
      if (canonical.empty()) {
        return InvalidArgument("unknown key \"" + Printable(key) +
                               "\" (keys: seq, prev, hash, fields, sep, algo, enc, ts, genesis, null)");
      }
      if (!seen.insert(canonical).second) return InvalidArgument("key \"" + key + "\" given twice");
      VOUCH_RETURN_IF_ERROR(SetOption(spec, canonical, Trim(value)));
    }
  }
  if (!seen.count("genesis")) spec.genesis = DefaultGenesis(spec.algorithm, spec.encoding);
  VOUCH_RETURN_IF_ERROR(ValidateChainSpec(spec));
  return spec;
}

std::string Shorten(const std::string& s) {
  if (s.size() <= 20) return Printable(s);
  return Printable(s.substr(0, 4)) + "…" + Printable(s.substr(s.size() - 4)) + " (" + std::to_string(s.size()) +
         " chars)";
}

}  // namespace

const char* ChainAlgorithmName(ChainAlgorithm a) {
  for (const auto& x : kAlgorithms) {
    if (x.a == a) return x.name;
  }
  return "?";
}
const char* ChainEncodingName(ChainEncoding e) {
  for (const auto& x : kEncodings) {
    if (x.e == e) return x.name;
  }
  return "?";
}
const char* TimestampRenderingName(TimestampRendering t) {
  for (const auto& x : kRenderings) {
    if (x.t == t) return x.name;
  }
  return "?";
}
std::optional<ChainAlgorithm> ChainAlgorithmFromName(std::string_view name) {
  for (const auto& x : kAlgorithms) {
    if (name == x.name) return x.a;
  }
  return std::nullopt;
}
std::optional<ChainEncoding> ChainEncodingFromName(std::string_view name) {
  for (const auto& x : kEncodings) {
    if (name == x.name) return x.e;
  }
  return std::nullopt;
}
std::optional<TimestampRendering> TimestampRenderingFromName(std::string_view name) {
  for (const auto& x : kRenderings) {
    if (name == x.name) return x.t;
  }
  return std::nullopt;
}

size_t ChainDigestSize(ChainAlgorithm a) {
  for (const auto& x : kAlgorithms) {
    if (x.a == a) return x.size;
  }
  return 0;
}

std::string DefaultGenesis(ChainAlgorithm a, ChainEncoding e) {
  return chain_internal::EncodeDigestText(e, std::string(ChainDigestSize(a), '\0'));
}

Status ValidateChainSpec(const ChainSpec& spec) {
  size_t dot = spec.table.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == spec.table.size()) {
    return InvalidArgument("chain table \"" + spec.table + "\" is not schema.name");
  }
  const std::string where = "chain " + spec.table + ": ";
  if (spec.seq_column.empty() || spec.prev_column.empty() || spec.hash_column.empty()) {
    return InvalidArgument(where + "seq, prev and hash columns must be named");
  }
  if (spec.seq_column == spec.prev_column || spec.seq_column == spec.hash_column ||
      spec.prev_column == spec.hash_column) {
    return InvalidArgument(where + "seq, prev and hash must be three different columns");
  }
  if (spec.fields.empty()) return InvalidArgument(where + "no fields to hash");
  for (const std::string& f : spec.fields) {
    if (f.empty()) return InvalidArgument(where + "an empty name in fields");
    if (f == spec.hash_column) {
      return InvalidArgument(where + "fields include the hash column \"" + f + "\", which cannot hash itself");
    }
  }
  return Status::Ok();
}

Result<ChainSpec> ParseChainFlag(std::string_view text) {
  Result<ChainSpec> spec = ParseFlag(text);
  if (!spec.ok()) return spec.status().WithContext("chain \"" + std::string(text) + "\"");
  return spec;
}

std::string DescribeChainSpec(const ChainSpec& spec) {
  std::string input;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (i > 0) input += spec.separator;
    input += spec.fields[i];
  }
  std::string out = spec.table + ": " + spec.hash_column + " = " + ChainEncodingName(spec.encoding) + "(" +
                    ChainAlgorithmName(spec.algorithm) + "(" + Printable(input) + ")), seq " + spec.seq_column +
                    ", prev " + spec.prev_column + ", ts " + TimestampRenderingName(spec.timestamps) + ", genesis ";
  out += spec.genesis.empty() ? "not checked" : Shorten(spec.genesis);
  if (!spec.null_as.empty()) out += ", NULL as \"" + Printable(spec.null_as) + "\"";
  return out;
}

std::pair<std::string, std::string> ChainTableName(const ChainSpec& spec) {
  const size_t dot = spec.table.find('.');
  if (dot == std::string::npos) return {"public", spec.table};
  return {spec.table.substr(0, dot), spec.table.substr(dot + 1)};
}

}  // namespace vouch
